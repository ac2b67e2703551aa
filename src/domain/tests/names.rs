//! The names the log and the API use: formats and event types.

use super::*;

#[test]
fn html_is_a_way_to_open_a_link_but_never_a_share_format() {
    assert_eq!(Format::parse("html"), None);
    assert_eq!(VisitFormat::from(Format::M3u), VisitFormat::M3u);
    assert_eq!(VisitFormat::Html.as_str(), "html");
}

#[test]
fn every_event_type_name_is_listed_once_in_types() {
    for kind in VisitKind::ALL {
        assert!(Event::TYPES.contains(&kind.type_name()));
        assert_eq!(VisitKind::of_type_name(kind.type_name()), Some(kind));
    }
    assert_eq!(VisitKind::of_type_name("ShareCreated"), None);
    let distinct: std::collections::HashSet<_> = Event::TYPES.iter().collect();
    assert_eq!(distinct.len(), Event::TYPES.len());
}
