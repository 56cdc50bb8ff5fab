//! Proxy URLs and credentials through the public builder: parsing never panics, and neither the
//! error nor the configuration's `Debug` ever shows the password (inline or separate).
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use wxface::{ApiKey, Config};

#[derive(Arbitrary, Debug)]
struct Input {
    scheme: u8,
    host: String,
    user: String,
    inline: bool,
    separate: bool,
}

const PASSWORD: &str = "Pw0rdZqX9vK2";

fuzz_target!(|input: Input| {
    // A host that itself spells the password (or hides a second `@`) would show it as the host.
    if input.host.contains('@') || input.host.contains(PASSWORD) {
        return;
    }
    let scheme = ["http", "socks5", "socks5h", "https", "HTTP", ""][usize::from(input.scheme % 6)];
    let url = if input.inline {
        format!("{scheme}://{}:{PASSWORD}@{}", input.user, input.host)
    } else {
        format!("{scheme}://{}", input.host)
    };
    let key = ApiKey::new("0123456789abcdef0123456789abcdef").expect("test key");
    let mut builder = Config::builder("1900000109", "wx2421b1c4370ec43b", key).proxy(url);
    if input.separate {
        builder = builder.proxy_credentials(input.user.clone(), PASSWORD);
    }
    assert!(!format!("{builder:?}").contains(PASSWORD));
    match builder.build() {
        Ok(config) => assert!(!format!("{config:?}").contains(PASSWORD)),
        Err(e) => {
            assert!(!e.to_string().contains(PASSWORD), "{e}");
            assert!(!format!("{e:?}").contains(PASSWORD), "{e:?}");
        }
    }
});
