//! Reading the share page's HTML in tests without a parser: the page is ours and its tags are
//! written one attribute list per tag, so a tag is found by a marker inside it.

/// The value of `attr` in the first tag that contains `marker`.
pub fn attr<'a>(html: &'a str, marker: &str, attr: &str) -> &'a str {
    let at = html
        .find(marker)
        .unwrap_or_else(|| panic!("{marker} not in page"));
    let tag_start = html[..=at].rfind('<').unwrap();
    let tag = &html[tag_start..tag_start + html[tag_start..].find('>').unwrap()];
    let key = format!(" {attr}=\"");
    let v = tag
        .find(&key)
        .unwrap_or_else(|| panic!("{attr} not in {tag}"));
    let rest = &tag[v + key.len()..];
    &rest[..rest.find('"').unwrap()]
}
