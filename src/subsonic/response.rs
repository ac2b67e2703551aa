//! Subsonic answers in XML (the default) or JSON (`f=json`), from one element tree.
//! Errors are answered with HTTP 200 and a Subsonic error code, as clients expect.

use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use serde_json::{Map, Value};

/// The Subsonic API version we speak.
pub use crate::subsonic_api::API_VERSION;

/// An element: attributes (JSON properties) and named children.
#[derive(Default)]
pub struct Element {
    attrs: Vec<(&'static str, Value)>,
    children: Vec<(&'static str, Children)>,
}

enum Children {
    /// Exactly one element (`shares` in the response).
    One(Element),
    /// A repeated element (`share`, `entry`): a JSON array, even with one member.
    Many(Vec<Element>),
}

impl Element {
    pub fn attr(mut self, name: &'static str, value: impl Into<Value>) -> Self {
        self.attrs.push((name, value.into()));
        self
    }

    pub fn attr_opt(self, name: &'static str, value: Option<impl Into<Value>>) -> Self {
        match value {
            Some(v) => self.attr(name, v),
            None => self,
        }
    }

    pub fn child(mut self, name: &'static str, e: Element) -> Self {
        self.children.push((name, Children::One(e)));
        self
    }

    pub fn list(mut self, name: &'static str, es: Vec<Element>) -> Self {
        self.children.push((name, Children::Many(es)));
        self
    }

    fn json(&self) -> Value {
        let mut m: Map<String, Value> = self
            .attrs
            .iter()
            // The XML namespace has no place in JSON.
            .filter(|(k, _)| *k != "xmlns")
            .map(|(k, v)| ((*k).to_string(), v.clone()))
            .collect();
        for (name, c) in &self.children {
            let v = match c {
                Children::One(e) => e.json(),
                Children::Many(es) => Value::Array(es.iter().map(Element::json).collect()),
            };
            m.insert((*name).to_string(), v);
        }
        Value::Object(m)
    }

    fn xml(&self, name: &str, out: &mut String) {
        out.push('<');
        out.push_str(name);
        for (k, v) in &self.attrs {
            let text = match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            out.push_str(&format!(" {k}=\"{}\"", escape(&text)));
        }
        if self.children.is_empty() {
            out.push_str("/>");
            return;
        }
        out.push('>');
        for (child, c) in &self.children {
            match c {
                Children::One(e) => e.xml(child, out),
                Children::Many(es) => es.iter().for_each(|e| e.xml(child, out)),
            }
        }
        out.push_str(&format!("</{name}>"));
    }
}

/// XML attribute escaping; control characters XML 1.0 cannot carry are dropped.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\t' => out.push_str("&#9;"),
            c if (c as u32) < 0x20 => {}
            c => out.push(c),
        }
    }
    out
}

/// A Subsonic failure: `code` per the API (10, 40, 41, 50, 70, 0 = generic).
#[derive(Debug)]
pub struct Failure {
    pub code: u32,
    pub message: String,
    /// HTTP 200 unless the failure is ours or an outage (then clients also see the body).
    pub status: StatusCode,
}

impl Failure {
    pub fn new(code: u32, message: impl Into<String>) -> Self {
        Failure {
            code,
            message: message.into(),
            status: StatusCode::OK,
        }
    }

    pub fn missing(param: &str) -> Self {
        Self::new(10, format!("required parameter is missing: {param}"))
    }

    pub fn not_found() -> Self {
        Self::new(70, "share not found")
    }

    /// Outages and internal failures: code 0 with a 5xx, never a pass.
    pub fn unavailable(message: &str) -> Self {
        Failure {
            status: StatusCode::SERVICE_UNAVAILABLE,
            ..Self::new(0, message)
        }
    }

    /// sharelog's own settings for the music server are wrong: code 0 with a 502, and a
    /// message that names the setting to fix.
    pub fn misconfigured(message: String) -> Self {
        Failure {
            status: StatusCode::BAD_GATEWAY,
            ..Self::new(0, message)
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Xml,
    Json,
}

impl Format {
    /// `f=json` gives JSON; anything else (absent, `xml`) gives XML.
    pub fn from_param(f: Option<&str>) -> Self {
        match f {
            Some("json") => Format::Json,
            _ => Format::Xml,
        }
    }

    pub fn ok(self, body: Element) -> HttpResponse {
        self.render(StatusCode::OK, envelope("ok").attrs_from(body))
    }

    pub fn fail(self, f: Failure) -> HttpResponse {
        let err = Element::default()
            .attr("code", f.code)
            .attr("message", f.message);
        self.render(f.status, envelope("failed").child("error", err))
    }

    fn render(self, status: StatusCode, root: Element) -> HttpResponse {
        let mut resp = HttpResponse::build(status);
        match self {
            Format::Json => resp.json(serde_json::json!({"subsonic-response": root.json()})),
            Format::Xml => {
                let mut out = String::from(r#"<?xml version="1.0" encoding="UTF-8"?>"#);
                root.xml("subsonic-response", &mut out);
                resp.content_type("text/xml; charset=utf-8").body(out)
            }
        }
    }
}

fn envelope(status: &str) -> Element {
    Element::default()
        .attr("xmlns", "http://subsonic.org/restapi")
        .attr("status", status)
        .attr("version", API_VERSION)
        .attr("type", "sharelog")
        .attr("serverVersion", env!("CARGO_PKG_VERSION"))
        .attr("openSubsonic", true)
}

impl Element {
    /// Appends `body`'s children (the answer's payload) to this envelope.
    fn attrs_from(mut self, body: Element) -> Self {
        self.children.extend(body.children);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_attributes_are_escaped() {
        let mut out = String::new();
        Element::default()
            .attr("d", "a<b & \"c\" 東京")
            .xml("x", &mut out);
        assert_eq!(out, r#"<x d="a&lt;b &amp; &quot;c&quot; 東京"/>"#);
    }

    #[test]
    fn repeated_children_are_json_arrays_even_when_alone() {
        let e = Element::default().list("share", vec![Element::default().attr("id", "a")]);
        assert_eq!(e.json(), serde_json::json!({"share": [{"id": "a"}]}));
    }
}
