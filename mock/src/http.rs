//! Just enough HTTP/1.1, hand-written over `std::net` so scenarios can misbehave at byte level.

use std::io::{self, Read, Write};

/// Largest accepted request, head and body together.
pub const MAX_REQUEST: usize = 1024 * 1024;
/// Largest accepted request head (request line and headers).
const MAX_HEAD: usize = 64 * 1024;

/// One parsed HTTP request.
pub struct Request {
    pub method: String,
    pub target: String,
    pub version: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    /// The first header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        header(&self.headers, name)
    }

    /// Whether the connection must close after this request's response.
    pub fn wants_close(&self) -> bool {
        let conn = self.header("connection").unwrap_or("").to_ascii_lowercase();
        let has = |token: &str| conn.split(',').any(|t| t.trim() == token);
        if self.version == "HTTP/1.0" {
            !has("keep-alive")
        } else {
            has("close")
        }
    }
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// Why no request could be read.
pub enum ReadError {
    /// The peer closed (or the socket failed) between or inside requests: just close.
    Closed,
    /// The request is unacceptable: answer with this status and close.
    Bad(u16),
}

impl From<io::Error> for ReadError {
    fn from(_: io::Error) -> Self {
        ReadError::Closed
    }
}

/// Reads one request from `stream`. `buf` carries bytes already received past the previous
/// request (pipelining) and keeps any surplus for the next call.
pub fn read_request<S: Read + Write>(
    stream: &mut S,
    buf: &mut Vec<u8>,
) -> Result<Request, ReadError> {
    let head_len = loop {
        if let Some(pos) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break pos + 4;
        }
        if buf.len() > MAX_HEAD {
            return Err(ReadError::Bad(431));
        }
        fill(stream, buf)?;
    };
    let head = String::from_utf8(buf[..head_len - 4].to_vec()).map_err(|_| ReadError::Bad(400))?;
    let mut lines = head.split("\r\n");
    let mut parts = lines.next().unwrap_or("").split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(ReadError::Bad(400));
    };
    if method.is_empty() || !target.starts_with('/') || !version.starts_with("HTTP/1.") {
        return Err(ReadError::Bad(400));
    }
    let mut headers = Vec::new();
    for line in lines {
        let (name, value) = line.split_once(':').ok_or(ReadError::Bad(400))?;
        if name.is_empty() || name.contains(|c: char| c.is_ascii_whitespace()) {
            return Err(ReadError::Bad(400));
        }
        headers.push((name.to_owned(), value.trim().to_owned()));
    }
    if header(&headers, "transfer-encoding").is_some() {
        return Err(ReadError::Bad(411));
    }
    let mut lengths = headers
        .iter()
        .filter(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .map(|(_, v)| {
            v.parse::<usize>()
                .ok()
                .filter(|_| v.bytes().all(|b| b.is_ascii_digit()))
        });
    let body_len = match (lengths.next(), lengths.next()) {
        (None, _) if method == "POST" => return Err(ReadError::Bad(411)),
        (None, _) => 0,
        (Some(Some(n)), None) => n,
        _ => return Err(ReadError::Bad(400)),
    };
    if body_len > MAX_REQUEST.saturating_sub(head_len) {
        return Err(ReadError::Bad(413));
    }
    let expect = header(&headers, "expect").map(str::to_ascii_lowercase);
    if expect.as_deref() == Some("100-continue") && buf.len() < head_len + body_len {
        stream.write_all(b"HTTP/1.1 100 Continue\r\n\r\n")?;
    }
    while buf.len() < head_len + body_len {
        fill(stream, buf)?;
    }
    let request = Request {
        method: method.to_owned(),
        target: target.to_owned(),
        version: version.to_owned(),
        headers,
        body: buf[head_len..head_len + body_len].to_vec(),
    };
    buf.drain(..head_len + body_len);
    Ok(request)
}

/// Appends whatever the socket has next to `buf`; end of stream is [`ReadError::Closed`].
fn fill(stream: &mut impl Read, buf: &mut Vec<u8>) -> Result<(), ReadError> {
    let mut chunk = [0u8; 16 * 1024];
    let n = stream.read(&mut chunk)?;
    if n == 0 {
        return Err(ReadError::Closed);
    }
    buf.extend_from_slice(&chunk[..n]);
    Ok(())
}

/// One HTTP response.
pub struct Response {
    pub status: u16,
    pub content_type: &'static str,
    pub extra_headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
}

impl Response {
    /// A response with no extra headers.
    pub fn new(status: u16, content_type: &'static str, body: impl Into<Vec<u8>>) -> Self {
        Response {
            status,
            content_type,
            extra_headers: Vec::new(),
            body: body.into(),
        }
    }

    /// The head (status line and headers, ending in a blank line). `declared_len` is the
    /// Content-Length to announce, normally `body.len()`.
    pub fn head(&self, date: &str, close: bool, declared_len: usize) -> String {
        let mut head = format!(
            "HTTP/1.1 {} {}\r\nDate: {date}\r\nServer: wxface-mock\r\nContent-Type: {}\r\nContent-Length: {declared_len}\r\nConnection: {}\r\n",
            self.status,
            reason(self.status),
            self.content_type,
            if close { "close" } else { "keep-alive" },
        );
        for (k, v) in &self.extra_headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        head.push_str("\r\n");
        head
    }

    /// Writes the whole response in one go.
    pub fn write_to(&self, stream: &mut impl Write, date: &str, close: bool) -> io::Result<()> {
        let mut bytes = self.head(date, close, self.body.len()).into_bytes();
        bytes.extend_from_slice(&self.body);
        stream.write_all(&bytes)?;
        stream.flush()
    }
}

/// The reason phrase for the status codes the mock uses.
pub fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        411 => "Length Required",
        413 => "Content Too Large",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        _ => "Unknown",
    }
}

/// Formats a Unix time as an RFC 7231 IMF-fixdate, e.g. `Sun, 06 Nov 1994 08:49:37 GMT`.
pub fn http_date(unix_secs: i64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let days = unix_secs.div_euclid(86_400);
    let secs = unix_secs.rem_euclid(86_400);
    // Howard Hinnant's civil_from_days: day count since 1970-01-01 to (year, month, day).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{}, {day:02} {} {year:04} {:02}:{:02}:{:02} GMT",
        DAYS[usize::try_from(days.rem_euclid(7)).unwrap_or(0)],
        MONTHS[usize::try_from(month - 1).unwrap_or(0)],
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

#[cfg(test)]
mod tests {
    use super::http_date;

    #[test]
    fn imf_fixdate() {
        assert_eq!(http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(http_date(784_111_777), "Sun, 06 Nov 1994 08:49:37 GMT");
        assert_eq!(http_date(951_782_400), "Tue, 29 Feb 2000 00:00:00 GMT");
        assert_eq!(http_date(1_700_000_000), "Tue, 14 Nov 2023 22:13:20 GMT");
        assert_eq!(http_date(4_102_444_799), "Thu, 31 Dec 2099 23:59:59 GMT");
    }
}
