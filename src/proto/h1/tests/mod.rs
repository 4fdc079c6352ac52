//! Tests for the HTTP/1.x layer.
