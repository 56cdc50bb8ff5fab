//! The flat `<xml>` codec of APIv2 (PROTOCOL.md, "XML").
//!
//! Encoding writes one child per field, in the order given; a value holding markup characters
//! goes into CDATA, split around any `]]>` so it round-trips exactly. Decoding accepts CDATA,
//! entity-escaped text, whitespace between elements and unknown fields, and refuses DOCTYPE
//! (so no entity or DTD is ever resolved), nested elements, duplicates and non-UTF-8 input.

use std::borrow::Cow;

use quick_xml::Reader;
use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::Event;

use zeroize::Zeroize;

use crate::error::{Error, Result};

/// Encodes fields as `<xml><name>value</name>…</xml>`.
///
/// Field names must be XML names (the protocol's are ASCII `[a-z_]`); values are any text.
///
/// ```
/// let xml = wxface::xml::encode([("a", "1"), ("b", "x<y")]);
/// assert_eq!(xml, "<xml><a>1</a><b><![CDATA[x<y]]></b></xml>");
/// ```
pub fn encode<'a>(fields: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let fields: Vec<(&str, &str)> = fields.into_iter().collect();
    encode_fields(&fields)
}

/// How a value is written: as is, in CDATA, or with character references.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Form {
    Plain,
    Cdata,
    Escaped,
}

/// [`encode`] over a slice. The output is allocated once at its exact size (a first pass over
/// the values measures it), so growing never leaves partial copies of a value (the rawdata) in
/// freed memory, and nothing is allocated beyond what is returned.
pub(crate) fn encode_fields(fields: &[(&str, &str)]) -> String {
    // Each value's form, kept from the measuring pass (on the stack for the protocol's
    // field counts).
    let mut small = [Form::Plain; 16];
    let mut large = Vec::new();
    let forms: &mut [Form] = if fields.len() <= small.len() {
        &mut small[..fields.len()]
    } else {
        large.resize(fields.len(), Form::Plain);
        &mut large
    };
    let mut capacity = "<xml></xml>".len();
    for ((name, value), form) in fields.iter().zip(forms.iter_mut()) {
        let special = special_bytes(value.as_bytes());
        *form = if special & CR != 0 {
            // A parser turns a raw CR (even inside CDATA) into LF; only a character reference
            // carries it through.
            Form::Escaped
        } else if special & MARKUP != 0 {
            Form::Cdata
        } else {
            Form::Plain
        };
        capacity += 2 * name.len()
            + "<></>".len()
            + match form {
                Form::Plain => value.len(),
                Form::Cdata => {
                    "<![CDATA[]]>".len()
                        + value.len()
                        + "]]]]><![CDATA[>".len().saturating_sub("]]>".len())
                            * value.matches("]]>").count()
                }
                Form::Escaped => escaped_len(value),
            };
    }
    let mut out = String::with_capacity(capacity);
    out.push_str("<xml>");
    for ((name, value), form) in fields.iter().zip(forms.iter()) {
        debug_assert!(is_xml_name(name), "field name {name:?} is not an XML name");
        out.push('<');
        out.push_str(name);
        out.push('>');
        match form {
            Form::Plain => out.push_str(value),
            Form::Escaped => push_escaped(&mut out, value),
            Form::Cdata => {
                // `]]>` cannot appear inside a CDATA section: end the section between `]]`
                // and `>`.
                out.push_str("<![CDATA[");
                let mut parts = value.split("]]>");
                if let Some(first) = parts.next() {
                    out.push_str(first);
                }
                for part in parts {
                    out.push_str("]]]]><![CDATA[>");
                    out.push_str(part);
                }
                out.push_str("]]>");
            }
        }
        out.push_str("</");
        out.push_str(name);
        out.push('>');
    }
    out.push_str("</xml>");
    debug_assert_eq!(out.len(), capacity);
    out
}

/// [`special_bytes`] flag: one of `<>&"'`.
const MARKUP: u8 = 1;
/// [`special_bytes`] flag: a carriage return.
const CR: u8 = 2;

/// Which kinds of bytes that need more than a copy occur in `bytes` ([`MARKUP`], [`CR`]), by
/// vectorized searches.
fn special_bytes(bytes: &[u8]) -> u8 {
    let markup = memchr::memchr3(b'<', b'>', b'&', bytes).is_some()
        || memchr::memchr2(b'"', b'\'', bytes).is_some();
    let cr = memchr::memchr(b'\r', bytes).is_some();
    u8::from(markup) | (u8::from(cr) << 1)
}

/// The length of `value` written by [`push_escaped`].
fn escaped_len(value: &str) -> usize {
    value
        .bytes()
        .map(|b| match b {
            b'<' | b'>' => "&lt;".len(),
            b'&' => "&amp;".len(),
            b'"' | b'\'' => "&quot;".len(),
            b'\r' => "&#13;".len(),
            _ => 1,
        })
        .sum()
}

fn push_escaped(out: &mut String, value: &str) {
    let mut rest = value;
    while let Some(i) = rest
        .bytes()
        .position(|b| matches!(b, b'<' | b'>' | b'&' | b'"' | b'\'' | b'\r'))
    {
        out.push_str(&rest[..i]);
        out.push_str(match rest.as_bytes()[i] {
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'&' => "&amp;",
            b'"' => "&quot;",
            b'\'' => "&apos;",
            _ => "&#13;",
        });
        rest = &rest[i + 1..];
    }
    out.push_str(rest);
}

fn is_xml_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.')
}

/// Decodes a flat `<xml>` document into its fields, in document order.
///
/// ```
/// let f = wxface::xml::decode(b"<xml>\n <a><![CDATA[x]]></a>\n <b>1 &amp; 2</b><c/></xml>").unwrap();
/// assert_eq!(f, vec![("a".into(), "x".into()), ("b".into(), "1 & 2".into()), ("c".into(), "".into())]);
/// assert!(wxface::xml::decode(b"<!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]><xml><a>&e;</a></xml>").is_err());
/// ```
pub fn decode(body: &[u8]) -> Result<Vec<(String, String)>> {
    let fields = decode_fields(body)?;
    Ok(fields
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect())
}

/// Decoded fields, borrowing from the body wherever a name or value is the body's own text
/// (no entity, no CR to normalize, not split across CDATA sections). Values the decoder had to
/// build are wiped when the fields are dropped; borrowed ones are the body's to wipe.
pub(crate) struct Fields<'a>(Vec<(Cow<'a, str>, Cow<'a, str>)>);

impl<'a> std::ops::Deref for Fields<'a> {
    type Target = [(Cow<'a, str>, Cow<'a, str>)];
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl Drop for Fields<'_> {
    fn drop(&mut self) {
        for (_, value) in &mut self.0 {
            if let Cow::Owned(v) = value {
                v.zeroize();
            }
        }
    }
}

/// `part` of `text` (which quick-xml reported by reference into it) as a borrow of `text`
/// itself, so it outlives the event; a copy if it does not lie inside `text`.
fn within<'a>(text: &'a str, part: &str) -> Cow<'a, str> {
    let offset = part.as_ptr().addr().wrapping_sub(text.as_ptr().addr());
    match text.get(offset..offset.wrapping_add(part.len())) {
        Some(same) if same.as_ptr() == part.as_ptr() => Cow::Borrowed(same),
        _ => Cow::Owned(part.to_owned()),
    }
}

/// Appends `more` to a value, keeping it borrowed while it is a single piece.
fn append<'a>(value: &mut Cow<'a, str>, more: Cow<'a, str>) {
    if value.is_empty() {
        *value = more;
    } else {
        value.to_mut().push_str(&more);
    }
}

/// [`decode`] without copies: see [`Fields`].
pub(crate) fn decode_fields(body: &[u8]) -> Result<Fields<'_>> {
    let text = std::str::from_utf8(body).map_err(|_| bad("body is not valid UTF-8"))?;
    match decode_simple(text) {
        Some(fields) => Ok(fields),
        None => decode_general(text),
    }
}

/// ASCII whitespace the simple path skips between elements (a CR is left to the general
/// parser, which normalizes line ends).
fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while matches!(b.get(i), Some(b' ' | b'\t' | b'\n')) {
        i += 1;
    }
    i
}

/// The shape WeChat (and the mock) send, read with byte searches:
/// `<xml>` (`<name>` text or one CDATA section `</name>`)* `</xml>`, with ASCII whitespace
/// around elements, no declaration, comment, entity, attribute, empty-element tag or CR, and
/// no `>` in text. Anything else gives `None` and [`decode_general`] decides, so this accepts
/// only documents the general parser accepts, with the same fields (tested against it).
fn decode_simple(text: &str) -> Option<Fields<'_>> {
    let b = text.as_bytes();
    let mut i = skip_ws(b, 0);
    if !b[i..].starts_with(b"<xml>") {
        return None;
    }
    i += "<xml>".len();
    let mut fields = Fields(Vec::with_capacity(16));
    loop {
        i = skip_ws(b, i);
        let rest = &b[i..];
        if rest.starts_with(b"</xml>") {
            i += "</xml>".len();
            break;
        }
        if rest.first() != Some(&b'<') {
            return None;
        }
        // `<` and `>` are ASCII, so the slices below fall on character boundaries.
        let name_end = i + 1 + memchr::memchr(b'>', &rest[1..])?;
        let name = &text[i + 1..name_end];
        if !is_xml_name(name) || fields.0.iter().any(|(n, _)| n == name) {
            return None;
        }
        i = name_end + 1;
        let value = if b[i..].starts_with(b"<![CDATA[") {
            let start = i + "<![CDATA[".len();
            let mut end = start;
            loop {
                end += memchr::memchr(b']', &b[end..])?;
                if b[end..].starts_with(b"]]>") {
                    break;
                }
                end += 1;
            }
            i = end + "]]>".len();
            &text[start..end]
        } else {
            let end = i + memchr::memchr(b'<', &b[i..])?;
            let value = &text[i..end];
            if memchr::memchr3(b'&', b'>', b'\r', value.as_bytes()).is_some() {
                return None;
            }
            i = end;
            value
        };
        if memchr::memchr(b'\r', value.as_bytes()).is_some() {
            return None;
        }
        let close = &b[i..];
        if !(close.starts_with(b"</")
            && close[2..].starts_with(name.as_bytes())
            && close.get(2 + name.len()) == Some(&b'>'))
        {
            return None;
        }
        i += "</>".len() + name.len();
        fields.0.push((Cow::Borrowed(name), Cow::Borrowed(value)));
    }
    (skip_ws(b, i) == b.len()).then_some(fields)
}

/// Any document, read with quick-xml's reader: the rules of [`decode`].
fn decode_general(text: &str) -> Result<Fields<'_>> {
    let mut reader = Reader::from_str(text);
    let cfg = reader.config_mut();
    cfg.check_end_names = true;
    cfg.expand_empty_elements = true;

    let mut fields = Fields(Vec::with_capacity(16));
    // None: before the root; Some(None): inside the root between fields; Some(Some(i)): in field i.
    let mut state: Option<Option<usize>> = None;
    let mut root_closed = false;
    loop {
        let event = reader.read_event().map_err(|e| {
            bad(format!(
                "malformed XML at byte {}: {e}",
                reader.error_position()
            ))
        })?;
        match event {
            Event::DocType(_) => {
                return Err(bad(
                    "a DOCTYPE declaration is not accepted (XXE protection)",
                ));
            }
            Event::Decl(_) | Event::Comment(_) => {}
            Event::PI(_) => return Err(bad("processing instructions are not accepted")),
            Event::Eof => break,
            Event::Start(start) => match state {
                None if !root_closed => {
                    if start.name().as_ref() != "xml" {
                        return Err(bad("the root element is not <xml>"));
                    }
                    state = Some(None);
                }
                None => return Err(bad("content after the root element")),
                Some(None) => {
                    let name = within(text, start.name().as_ref());
                    if !is_xml_name(&name) {
                        return Err(bad(format!("{name:?} is not a field name")));
                    }
                    if fields.0.iter().any(|(n, _)| *n == name) {
                        return Err(bad(format!("field <{name}> appears twice")));
                    }
                    fields.0.push((name, Cow::Borrowed("")));
                    state = Some(Some(fields.0.len() - 1));
                }
                Some(Some(_)) => {
                    return Err(bad("nested elements are not accepted in a flat message"));
                }
            },
            Event::End(_) => match state {
                Some(Some(_)) => state = Some(None),
                Some(None) => {
                    state = None;
                    root_closed = true;
                }
                None => return Err(bad("unexpected closing tag")),
            },
            Event::Text(t) => {
                let content = t.xml10_content();
                match state {
                    Some(Some(i)) => append(&mut fields.0[i].1, content),
                    _ if content.trim().is_empty() => {}
                    _ => return Err(bad("text outside a field")),
                }
            }
            Event::CData(c) => match state {
                Some(Some(i)) => append(&mut fields.0[i].1, c.xml10_content()),
                _ => return Err(bad("CDATA outside a field")),
            },
            Event::GeneralRef(r) => {
                let Some(Some(i)) = state else {
                    return Err(bad("entity reference outside a field"));
                };
                let value = fields.0[i].1.to_mut();
                match r.resolve_char_ref() {
                    Ok(Some(c)) => value.push(c),
                    Ok(None) => {
                        let name = r.xml10_content();
                        value.push_str(
                            resolve_predefined_entity(&name)
                                .ok_or_else(|| bad(format!("unknown entity &{name};")))?,
                        );
                    }
                    Err(e) => return Err(bad(format!("bad character reference: {e}"))),
                }
            }
            Event::Empty(_) => unreachable!("expand_empty_elements is on"),
        }
    }
    if !root_closed {
        return Err(bad(if state.is_some() {
            "the document ends before </xml> (truncated)"
        } else {
            "no <xml> root element"
        }));
    }
    Ok(fields)
}

fn bad(msg: impl Into<String>) -> Error {
    Error::BadResponse(msg.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roundtrip(value: &str) {
        let xml = encode([("v", value), ("w", "plain")]);
        let back = decode(xml.as_bytes()).unwrap();
        assert_eq!(
            back,
            vec![
                ("v".to_owned(), value.to_owned()),
                ("w".into(), "plain".into())
            ],
            "{xml}"
        );
    }

    #[test]
    fn roundtrips_awkward_values() {
        for v in [
            "",
            "plain",
            "深圳南山科技园店",
            "a&b<c>d\"e'f",
            "]]>",
            "x]]>y]]>z",
            "]]]]>>",
            "<![CDATA[inner]]>",
            "  spaces kept  ",
            "line\nbreak",
            "carriage\r\nreturn\r",
            "cr and markup\r<&>",
            "base64+/==",
        ] {
            roundtrip(v);
        }
    }

    #[test]
    fn accepts_cdata_text_whitespace_and_unknown_fields() {
        let body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<xml>\n  <return_code><![CDATA[SUCCESS]]></return_code>\n  <return_msg>请求成功</return_msg>\n  <!-- comment -->\n  <new_field>a &lt;b&gt; &#x4E2D;&#25991;</new_field>\n</xml>\n";
        let f = decode(body.as_bytes()).unwrap();
        assert_eq!(f[0], ("return_code".into(), "SUCCESS".into()));
        assert_eq!(f[1], ("return_msg".into(), "请求成功".into()));
        assert_eq!(f[2], ("new_field".into(), "a <b> 中文".into()));
    }

    /// The simple path against the general parser: on random documents built from the pieces
    /// both paths care about, whatever the simple path accepts the general parser accepts with
    /// the same fields (it may leave any document to the general parser).
    #[test]
    fn the_simple_path_agrees_with_the_general_parser() {
        const PIECES: [&str; 34] = [
            "<xml>",
            "</xml>",
            "<a>",
            "</a>",
            "<b>",
            "</b>",
            "<a_1>",
            "</a_1>",
            "<![CDATA[",
            "]]>",
            "]]",
            "]",
            "x",
            "中文",
            "&amp;",
            "&",
            "\r",
            "\n",
            " ",
            "\t",
            ">",
            "<",
            "<!--c-->",
            "<?xml version=\"1.0\"?>",
            "\u{3000}",
            "<a/>",
            "<c d=\"1\">",
            "\u{1}",
            "</ a>",
            "<a >",
            "<xml/>",
            "<!DOCTYPE x>",
            "&#13;",
            "\u{feff}",
        ];
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        let (mut simple, mut total) = (0, 0);
        for round in 0..40_000 {
            let mut doc = String::new();
            if round % 2 == 0 {
                // Mostly well-formed: fields with random values, then random damage.
                doc.push_str(["", " ", "\n"][next(3)]);
                doc.push_str("<xml>");
                for _ in 0..next(4) {
                    let name = ["a", "b", "a_1", "c.d"][next(4)];
                    doc.push_str(&format!("{}<{name}>", ["", "\n  ", " "][next(3)]));
                    let cdata = next(2) == 0;
                    if cdata {
                        doc.push_str("<![CDATA[");
                    }
                    for _ in 0..next(3) {
                        doc.push_str(PIECES[next(PIECES.len())]);
                    }
                    if cdata {
                        doc.push_str("]]>");
                    }
                    doc.push_str(&format!("</{name}>"));
                }
                doc.push_str("</xml>");
                if next(4) == 0 {
                    let at = next(doc.len() + 1);
                    if doc.is_char_boundary(at) {
                        doc.insert_str(at, PIECES[next(PIECES.len())]);
                    }
                }
            } else {
                for _ in 0..next(12) {
                    doc.push_str(PIECES[next(PIECES.len())]);
                }
            }
            total += 1;
            if let Some(fast) = decode_simple(&doc) {
                simple += 1;
                let general = decode_general(&doc)
                    .unwrap_or_else(|e| panic!("the simple path accepted {doc:?}: {e}"));
                assert_eq!(&*fast, &*general, "{doc:?}");
            }
        }
        // The simple path is exercised, not always skipped.
        assert!(simple > total / 20, "{simple} of {total}");
    }

    #[test]
    fn refuses_doctype_and_entities() {
        for hostile in [
            "<!DOCTYPE xml [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]><xml><a>&xxe;</a></xml>",
            "<!DOCTYPE xml SYSTEM \"http://evil/x.dtd\"><xml><a>1</a></xml>",
            "<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\">]><xml><a>&lol;</a></xml>",
            "<xml><a>&xxe;</a></xml>",
        ] {
            assert!(
                matches!(decode(hostile.as_bytes()), Err(Error::BadResponse(_))),
                "{hostile}"
            );
        }
    }

    #[test]
    fn refuses_malformed_documents() {
        for bad_doc in [
            "",
            "not xml",
            "<xml><a>1</a>",
            "<xml><a>1</b></xml>",
            "<xml><a><b>1</b></a></xml>",
            "<xml><a>1</a><a>2</a></xml>",
            "<root><a>1</a></root>",
            "<xml><a>1</a></xml><xml></xml>",
            "<xml>stray<a>1</a></xml>",
            "<xml><?pi x?><a>1</a></xml>",
            "<xml>< /></xml>",
            "<xml><a:b>1</a:b></xml>",
        ] {
            assert!(
                matches!(decode(bad_doc.as_bytes()), Err(Error::BadResponse(_))),
                "{bad_doc:?}"
            );
        }
        assert!(
            decode(&[
                b'<', b'x', b'm', b'l', b'>', 0xff, b'<', b'/', b'x', b'm', b'l', b'>'
            ])
            .is_err()
        );
    }
}
