//! Helpers shared by the targets (included with `#[path]`, so each target stays one binary).

/// The field names `wxface::xml::encode` can write: `[A-Za-z_][A-Za-z0-9_.-]*`
/// (mirrors the private `is_xml_name` of src/protocol/xml.rs, which `encode` debug-asserts).
#[allow(dead_code)]
pub fn encodable_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.')
}

/// Values `encode` writes so that `decode` reads them back unchanged: all of them (a CR is
/// written as `&#13;`, since XML 1.0 end-of-line normalisation would turn a raw one into LF).
#[allow(dead_code)]
pub fn encodable_value(_value: &str) -> bool {
    true
}
