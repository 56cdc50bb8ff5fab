//! The flat `<xml>` documents of APIv2: a strict reader and a CDATA writer.

use quick_xml::Reader;
use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::Event;

/// Why a body is not an acceptable flat `<xml>` document.
#[derive(Debug)]
pub struct XmlError(pub String);

impl std::fmt::Display for XmlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for XmlError {}

fn err<T>(msg: impl Into<String>) -> Result<T, XmlError> {
    Err(XmlError(msg.into()))
}

/// Parses a flat `<xml><k>v</k>…</xml>` body into its fields, in document order.
///
/// Values may be text or CDATA (or a mix); predefined and character entity references are
/// resolved. A DOCTYPE, nested elements, duplicate fields, non-UTF-8 bytes, unknown entities and
/// stray text are all rejected.
pub fn parse_fields(body: &[u8]) -> Result<Vec<(String, String)>, XmlError> {
    let text = std::str::from_utf8(body).map_err(|_| XmlError("body is not UTF-8".into()))?;
    let mut reader = Reader::from_str(text);
    let mut fields: Vec<(String, String)> = Vec::new();
    // depth 0: before/after the root, 1: inside <xml>, 2: inside a field.
    let mut depth = 0u8;
    let mut root_done = false;
    let mut current: Option<(String, String)> = None;
    loop {
        let event = reader
            .read_event()
            .map_err(|e| XmlError(format!("malformed XML: {e}")))?;
        match event {
            Event::Eof => break,
            Event::Decl(_) | Event::Comment(_) => {}
            Event::DocType(_) => return err("DOCTYPE is not allowed"),
            Event::PI(_) => return err("processing instructions are not allowed"),
            Event::Start(e) if depth == 0 && !root_done && e.name().0 == "xml" => depth = 1,
            Event::Empty(e) if depth == 0 && !root_done && e.name().0 == "xml" => root_done = true,
            Event::Start(_) | Event::Empty(_) if depth == 0 => {
                return err("the root element must be a single <xml>");
            }
            Event::Start(e) if depth == 1 => {
                current = Some((e.name().0.to_owned(), String::new()));
                depth = 2;
            }
            Event::Empty(e) if depth == 1 => push_field(&mut fields, e.name().0.to_owned(), "")?,
            Event::Start(_) | Event::Empty(_) => return err("nested elements are not allowed"),
            Event::Text(t) => match current.as_mut() {
                Some((_, value)) => value.push_str(&t.xml10_content()),
                None if t.trim().is_empty() => {}
                None => return err("text outside a field"),
            },
            Event::CData(c) => match current.as_mut() {
                Some((_, value)) => value.push_str(&c.xml10_content()),
                None => return err("CDATA outside a field"),
            },
            Event::GeneralRef(r) => {
                let Some((_, value)) = current.as_mut() else {
                    return err("entity reference outside a field");
                };
                match r.resolve_char_ref() {
                    Ok(Some(ch)) => value.push(ch),
                    Ok(None) => match resolve_predefined_entity(&r) {
                        Some(s) => value.push_str(s),
                        None => return err(format!("unknown entity &{};", &*r)),
                    },
                    Err(e) => return err(format!("bad character reference: {e}")),
                }
            }
            Event::End(_) => match depth {
                2 => {
                    let (name, value) = current.take().expect("depth 2 has a field");
                    push_field(&mut fields, name, &value)?;
                    depth = 1;
                }
                _ => {
                    depth = 0;
                    root_done = true;
                }
            },
        }
    }
    if !root_done {
        return err("missing <xml> root");
    }
    Ok(fields)
}

fn push_field(
    fields: &mut Vec<(String, String)>,
    name: String,
    value: &str,
) -> Result<(), XmlError> {
    if fields.iter().any(|(k, _)| *k == name) {
        return err(format!("duplicate field {name}"));
    }
    fields.push((name, value.to_owned()));
    Ok(())
}

/// Serialises fields the way WeChat does: `<xml><k><![CDATA[v]]></k>…</xml>`, splitting any
/// `]]>` inside a value across two CDATA sections so the value round-trips exactly.
pub fn to_xml(fields: &[(String, String)]) -> String {
    let mut out = String::from("<xml>");
    for (k, v) in fields {
        out.push_str(&format!(
            "<{k}><![CDATA[{}]]></{k}>",
            v.replace("]]>", "]]]]><![CDATA[>")
        ));
    }
    out.push_str("</xml>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(k: &str, v: &str) -> (String, String) {
        (k.to_owned(), v.to_owned())
    }

    #[test]
    fn round_trip_with_cdata_split_and_entities() {
        let fields = vec![f("a", "x]]>y<&>"), f("b", "人脸"), f("c", "")];
        assert_eq!(parse_fields(to_xml(&fields).as_bytes()).unwrap(), fields);
        let parsed =
            parse_fields(b"<?xml version=\"1.0\"?>\n<xml>\n <a>1 &amp; &#x41;&lt;</a><b/></xml>\n");
        assert_eq!(parsed.unwrap(), vec![f("a", "1 & A<"), f("b", "")]);
        assert_eq!(parse_fields(b"<xml/>").unwrap(), vec![]);
    }

    #[test]
    fn rejects_hostile_or_malformed_documents() {
        for bad in [
            &b"<!DOCTYPE xml [<!ENTITY e SYSTEM \"file:///etc/passwd\">]><xml><a>&e;</a></xml>"[..],
            b"<xml><a><b>1</b></a></xml>",
            b"<xml><a>1</a><a>2</a></xml>",
            b"<xml><a>1</b></xml>",
            b"<root><a>1</a></root>",
            b"<xml><a>&bogus;</a></xml>",
            b"<xml>stray<a>1</a></xml>",
            b"<xml><a>1</a></xml><xml/>",
            b"<xml><a>\xff</a></xml>",
            b"this is not xml",
            b"",
        ] {
            assert!(
                parse_fields(bad).is_err(),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }
}
