//! A small strict JSON reader and writer for the flat objects of the relay protocol
//! (`{"key": "text" | number | true | false | null, ...}`), so the library needs no JSON
//! dependency. Anything else (nesting, trailing data, bad escapes, lone surrogates, duplicate
//! keys, non-UTF-8) is refused. Pure functions over bytes: safe to fuzz.

use std::fmt::Write as _;

use zeroize::{Zeroize, Zeroizing};

/// A scalar JSON value. Text is wiped when the value is dropped and never shown by `Debug` (a
/// relay's values include the rawdata and the authinfo).
#[derive(Clone, PartialEq)]
pub enum Value {
    /// A string.
    Str(String),
    /// A number, as written (validated against the JSON grammar).
    Num(String),
    /// `true` or `false`.
    Bool(bool),
    /// `null`.
    Null,
}

impl Drop for Value {
    fn drop(&mut self) {
        if let Value::Str(s) | Value::Num(s) = self {
            s.zeroize();
        }
    }
}

/// Strings show their length only: they may be the rawdata or the authinfo.
impl std::fmt::Debug for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Value::Str(s) => write!(f, "Str(<{} bytes>)", s.len()),
            Value::Num(n) => write!(f, "Num({n})"),
            Value::Bool(b) => write!(f, "Bool({b})"),
            Value::Null => f.write_str("Null"),
        }
    }
}

impl Value {
    /// The string, if this is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The number as a `u64`, if this is a non-negative integer that fits.
    pub fn as_u64(&self) -> Option<u64> {
        match self {
            Value::Num(n) => n.parse().ok(),
            _ => None,
        }
    }

    /// The boolean, if this is one.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }
}

/// A parsed flat object, keys in document order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Object(pub Vec<(String, Value)>);

impl Object {
    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// The string value of `key`.
    pub fn str(&self, key: &str) -> Option<&str> {
        self.get(key).and_then(Value::as_str)
    }
}

/// Largest input accepted, in bytes.
const MAX_INPUT: usize = 64 * 1024;

/// Parses one flat JSON object (surrounding whitespace allowed).
pub fn parse_object(input: &[u8]) -> Result<Object, String> {
    if input.len() > MAX_INPUT {
        return Err(format!("more than {MAX_INPUT} bytes"));
    }
    let text = std::str::from_utf8(input).map_err(|_| "not UTF-8".to_owned())?;
    let mut p = Parser {
        s: text.as_bytes(),
        i: 0,
    };
    p.ws();
    p.expect(b'{')?;
    let mut out: Vec<(String, Value)> = Vec::new();
    p.ws();
    if p.peek() == Some(b'}') {
        p.i += 1;
    } else {
        loop {
            p.ws();
            let key = p.string()?;
            if out.iter().any(|(k, _)| *k == key) {
                return Err(format!("duplicate key {key:?}"));
            }
            p.ws();
            p.expect(b':')?;
            p.ws();
            let value = p.value()?;
            out.push((key, value));
            p.ws();
            match p.next() {
                Some(b',') => continue,
                Some(b'}') => break,
                _ => return Err(p.err("expected ',' or '}'")),
            }
        }
    }
    p.ws();
    if p.i != p.s.len() {
        return Err(p.err("trailing data after the object"));
    }
    Ok(Object(out))
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn err(&self, what: &str) -> String {
        format!("{what} at byte {}", self.i)
    }
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }
    fn next(&mut self) -> Option<u8> {
        let b = self.peek()?;
        self.i += 1;
        Some(b)
    }
    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.i += 1;
        }
    }
    fn expect(&mut self, b: u8) -> Result<(), String> {
        if self.next() == Some(b) {
            Ok(())
        } else {
            Err(self.err(&format!("expected '{}'", b as char)))
        }
    }
    fn literal(&mut self, word: &[u8]) -> bool {
        if self.s[self.i..].starts_with(word) {
            self.i += word.len();
            true
        } else {
            false
        }
    }
    fn value(&mut self) -> Result<Value, String> {
        match self.peek() {
            Some(b'"') => self.string().map(Value::Str),
            Some(b't') if self.literal(b"true") => Ok(Value::Bool(true)),
            Some(b'f') if self.literal(b"false") => Ok(Value::Bool(false)),
            Some(b'n') if self.literal(b"null") => Ok(Value::Null),
            Some(b'-' | b'0'..=b'9') => self.number().map(Value::Num),
            Some(b'{' | b'[') => Err(self.err("nested values are not accepted")),
            _ => Err(self.err("expected a value")),
        }
    }
    fn digits(&mut self) -> usize {
        let start = self.i;
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.i += 1;
        }
        self.i - start
    }
    fn number(&mut self) -> Result<String, String> {
        let start = self.i;
        if self.peek() == Some(b'-') {
            self.i += 1;
        }
        match self.peek() {
            Some(b'0') => self.i += 1,
            Some(b'1'..=b'9') => {
                self.digits();
            }
            _ => return Err(self.err("bad number")),
        }
        if self.peek() == Some(b'.') {
            self.i += 1;
            if self.digits() == 0 {
                return Err(self.err("bad number"));
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.i += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.i += 1;
            }
            if self.digits() == 0 {
                return Err(self.err("bad number"));
            }
        }
        // The slice is ASCII digits and signs: valid UTF-8.
        Ok(String::from_utf8_lossy(&self.s[start..self.i]).into_owned())
    }
    fn hex4(&mut self) -> Result<u32, String> {
        let mut v = 0u32;
        for _ in 0..4 {
            let d = self
                .next()
                .and_then(|b| (b as char).to_digit(16))
                .ok_or_else(|| self.err("bad \\u escape"))?;
            v = v * 16 + d;
        }
        Ok(v)
    }
    /// Bytes from here to the closing quote (or the end): at least the decoded length (an
    /// escape never decodes to more bytes than it takes).
    fn raw_string_len(&self) -> usize {
        let mut j = self.i;
        while let Some(&b) = self.s.get(j) {
            match b {
                b'"' => break,
                b'\\' => j += 2,
                _ => j += 1,
            }
        }
        j.min(self.s.len()) - self.i
    }
    fn string(&mut self) -> Result<String, String> {
        self.expect(b'"')?;
        // Sized once (growing would free partial copies), wiped unless handed out whole.
        let mut out = Zeroizing::new(Vec::with_capacity(self.raw_string_len()));
        loop {
            let b = self.next().ok_or_else(|| self.err("unterminated string"))?;
            match b {
                b'"' => break,
                b'\\' => {
                    let e = self.next().ok_or_else(|| self.err("unterminated escape"))?;
                    let c = match e {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => {
                            let hi = self.hex4()?;
                            let code = if (0xD800..0xDC00).contains(&hi) {
                                if !(self.next() == Some(b'\\') && self.next() == Some(b'u')) {
                                    return Err(self.err("lone surrogate"));
                                }
                                let lo = self.hex4()?;
                                if !(0xDC00..0xE000).contains(&lo) {
                                    return Err(self.err("lone surrogate"));
                                }
                                0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                            } else {
                                hi
                            };
                            char::from_u32(code).ok_or_else(|| self.err("lone surrogate"))?
                        }
                        _ => return Err(self.err("bad escape")),
                    };
                    let mut buf = [0u8; 4];
                    out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                }
                0..=0x1f => return Err(self.err("control character in string")),
                _ => out.push(b),
            }
        }
        // The input is UTF-8 and escapes produce whole characters.
        String::from_utf8(std::mem::take(&mut *out)).map_err(|e| {
            e.into_bytes().zeroize();
            self.err("not UTF-8")
        })
    }
}

/// Length of `s` as a JSON string literal, as [`write_str`] writes it.
fn str_len(s: &str) -> usize {
    2 + s
        .chars()
        .map(|c| match c {
            '"' | '\\' | '\n' | '\r' | '\t' => 2,
            c if (c as u32) < 0x20 => 6,
            c => c.len_utf8(),
        })
        .sum::<usize>()
}

/// Appends `s` as a JSON string literal.
pub fn write_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Length of `v` as written by [`write_object`].
fn value_len(v: &Value) -> usize {
    match v {
        Value::Str(s) => str_len(s),
        Value::Num(n) => n.len(),
        Value::Bool(b) => {
            if *b {
                4
            } else {
                5
            }
        }
        Value::Null => 4,
    }
}

/// A flat object of the given fields, in order, in a string allocated once at its full size
/// (growing would free partial copies of the values).
pub fn write_object<'a>(fields: impl IntoIterator<Item = (&'a str, &'a Value)> + Clone) -> String {
    let len = 2 + fields
        .clone()
        .into_iter()
        .enumerate()
        .map(|(i, (k, v))| usize::from(i > 0) + str_len(k) + 1 + value_len(v))
        .sum::<usize>();
    let mut out = String::with_capacity(len);
    out.push('{');
    for (i, (k, v)) in fields.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_str(&mut out, k);
        out.push(':');
        match v {
            Value::Str(s) => write_str(&mut out, s),
            Value::Num(n) => out.push_str(n),
            Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Value::Null => out.push_str("null"),
        }
    }
    out.push('}');
    debug_assert_eq!(out.len(), len);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_text() {
        let object = parse_object(br#"{"authinfo":"SECRETauthinfo","expires_in":3600}"#).unwrap();
        let shown = format!("{object:?}");
        assert!(!shown.contains("SECRET"), "{shown}");
        assert!(
            shown.contains("Str(<14 bytes>)") && shown.contains("3600"),
            "{shown}"
        );
    }

    #[test]
    fn round_trip_with_escapes_and_chinese() {
        let fields = vec![
            (
                "a".to_owned(),
                Value::Str("深圳 \"q\" \\ \n\t\u{1}/😀".into()),
            ),
            ("n".to_owned(), Value::Num("3600".into())),
            ("b".to_owned(), Value::Bool(false)),
            ("z".to_owned(), Value::Null),
        ];
        let text = write_object(fields.iter().map(|(k, v)| (k.as_str(), v)));
        let back = parse_object(text.as_bytes()).unwrap();
        assert_eq!(back.0, fields);
        assert_eq!(back.get("n").unwrap().as_u64(), Some(3600));
    }

    #[test]
    fn reads_what_serde_writes() {
        let o = parse_object(br#" {"authinfo":"x\u00e9\ud83d\ude00","expires_in":3599,"from_cache":true,"e":-1.5e+3} "#)
            .unwrap();
        assert_eq!(o.str("authinfo"), Some("xé😀"));
        assert_eq!(o.get("from_cache").unwrap().as_bool(), Some(true));
        assert_eq!(o.get("e").unwrap(), &Value::Num("-1.5e+3".into()));
    }

    #[test]
    fn refuses_everything_else() {
        for bad in [
            &b""[..],
            b"[]",
            b"{",
            b"{\"a\":1,}",
            b"{\"a\":{}}",
            b"{\"a\":[1]}",
            b"{\"a\":1}x",
            b"{\"a\":1,\"a\":2}",
            b"{\"a\":\"\\ud800\"}",
            b"{\"a\":\"\\ud800\\u0041\"}",
            b"{\"a\":\"\\udc00\"}",
            b"{\"a\":\"\\x\"}",
            b"{\"a\":\"\x01\"}",
            b"{\"a\":01}",
            b"{\"a\":1.}",
            b"{\"a\":tru}",
            b"{a:1}",
            b"{\"a\":\"\xff\"}",
        ] {
            assert!(
                parse_object(bad).is_err(),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }
}
