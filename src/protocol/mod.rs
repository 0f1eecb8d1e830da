//! Pure protocol layer: frames, both header forms, codes, typed headers, JSON bodies and the
//! message record layout. No sockets, threads, files or clocks here.

pub mod access;
pub mod admin_body;
pub mod batch;
pub mod body;
pub mod codes;
pub mod command;
pub mod ext_fields;
pub mod frame;
pub mod json;
pub mod json_header;
pub mod names;
pub mod record;
pub mod stats_body;

#[cfg(test)]
mod tests_hostile;
