//! Server text in messages: any `return_code`/`return_msg` (and any cause text) shown through
//! `Error`'s `Display` is one line with no control, line-separator or bidi-override character,
//! and bounded in length, while `Error::remote()` still returns the text exactly.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use wxface::Error;

#[derive(Arbitrary, Debug)]
struct Input {
    code: String,
    msg: String,
    cause: String,
}

fn clean(shown: &str) -> bool {
    !shown.chars().any(|c| {
        c.is_control()
            || matches!(
                c,
                '\u{2028}' | '\u{2029}' | '\u{200e}' | '\u{200f}' | '\u{feff}'
            )
            || ('\u{202a}'..='\u{202e}').contains(&c)
            || ('\u{2066}'..='\u{2069}').contains(&c)
    })
}

fuzz_target!(|input: Input| {
    let remote = Error::Remote {
        return_code: input.code.clone(),
        return_msg: input.msg.clone(),
    };
    assert_eq!(
        remote.remote(),
        Some((input.code.as_str(), input.msg.as_str()))
    );
    for e in [
        remote,
        Error::Network(input.cause.clone()),
        Error::BadResponse(input.cause.clone()),
        Error::Tls(input.cause),
    ] {
        let shown = e.to_string();
        assert!(clean(&shown), "{shown:?}");
        // At most 200 + 40 characters of outside text, each escaped to at most 10 characters.
        assert!(
            shown.chars().count() <= 80 + 10 * 240 + 40,
            "{} chars",
            shown.chars().count()
        );
    }
});
