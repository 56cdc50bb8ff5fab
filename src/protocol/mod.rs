//! The protocol as pure functions over bytes: APIv2 signing, the flat-XML codec, the authinfo
//! request and answer, field validation and the key type. Nothing here does I/O or imports from
//! `net/` (tests/module_graph.rs fails if it does).

pub mod authinfo;
pub mod secret;
pub mod sign;
pub(crate) mod validate;
pub mod xml;
