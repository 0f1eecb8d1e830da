//! Python binding tests (filled in below).
