//! Typed extraction from a request, with the statuses users of axum and
//! actix-web expect: a query that does not fit its type is 400, a form
//! body of another content type 415 and of the wrong shape 422 (malformed
//! JSON 400 and wrong-shape JSON 422 live in
//! [`HttpError::from_request_json`]), a path parameter that does not parse
//! 400. Bodies over the limit never get here: the parser answers 413. Each
//! error names what was wrong. Shared by [`Ctx`](super::Ctx) and
//! [`Request`](super::Request).

use std::str::FromStr;

use serde::de::DeserializeOwned;

use super::HttpError;

/// The query string as `T` (serde, `application/x-www-form-urlencoded`
/// rules: `a=1&b=x`; a missing optional field is `None`).
pub(crate) fn query<T: DeserializeOwned>(raw: &str) -> Result<T, HttpError> {
    serde_urlencoded::from_str(raw)
        .map_err(|e| HttpError::new(400, format!("invalid query string: {e}")).with_json_body())
}

/// An `application/x-www-form-urlencoded` body as `T`.
pub(crate) fn form<T: DeserializeOwned>(
    content_type: Option<&[u8]>,
    body: &[u8],
) -> Result<T, HttpError> {
    if !content_type.is_some_and(is_form_type) {
        return Err(
            HttpError::new(415, "the body must be application/x-www-form-urlencoded")
                .with_json_body(),
        );
    }
    serde_urlencoded::from_bytes(body)
        .map_err(|e| HttpError::new(422, format!("invalid form: {e}")).with_json_body())
}

/// The route parameter `name` (with `value` as captured and decoded) as `T`.
/// A route without such a parameter is the application's mistake: 500.
pub(crate) fn param<T: FromStr>(name: &str, value: Option<&str>) -> Result<T, HttpError>
where
    T::Err: std::fmt::Display,
{
    let Some(value) = value else {
        tracing::error!(param = name, "no such route parameter");
        return Err(HttpError::internal());
    };
    value.parse().map_err(|e| {
        HttpError::new(400, format!("invalid path parameter `{name}`: {e}")).with_json_body()
    })
}

/// Whether a content type is `application/x-www-form-urlencoded` (any
/// parameters, any case).
fn is_form_type(value: &[u8]) -> bool {
    value
        .split(|&b| b == b';')
        .next()
        .unwrap_or_default()
        .trim_ascii()
        .eq_ignore_ascii_case(b"application/x-www-form-urlencoded")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug, PartialEq)]
    struct Page {
        page: u32,
        q: Option<String>,
    }

    #[test]
    fn queries_parse_or_are_400() {
        assert_eq!(
            query::<Page>("page=2&q=a%20b").unwrap(),
            Page {
                page: 2,
                q: Some("a b".into())
            }
        );
        assert_eq!(query::<Page>("page=2").unwrap().q, None);
        let e = query::<Page>("page=x").unwrap_err();
        assert_eq!(e.status(), 400);
        assert!(
            e.message().contains("invalid query string"),
            "{}",
            e.message()
        );
        assert_eq!(
            query::<Page>("").unwrap_err().status(),
            400,
            "missing field"
        );
    }

    #[test]
    fn forms_need_their_content_type_and_shape() {
        let ct = Some(&b"Application/X-WWW-Form-Urlencoded; charset=utf-8"[..]);
        assert_eq!(form::<Page>(ct, b"page=3").unwrap().page, 3);
        assert_eq!(
            form::<Page>(Some(b"application/json"), b"page=3")
                .unwrap_err()
                .status(),
            415
        );
        assert_eq!(form::<Page>(None, b"page=3").unwrap_err().status(), 415);
        assert_eq!(form::<Page>(ct, b"page=-1").unwrap_err().status(), 422);
    }

    #[test]
    fn params_parse_or_are_400() {
        assert_eq!(param::<u64>("id", Some("42")).unwrap(), 42);
        let e = param::<u64>("id", Some("x")).unwrap_err();
        assert_eq!(e.status(), 400);
        assert!(e.message().contains("`id`"), "{}", e.message());
        assert_eq!(param::<u64>("id", None).unwrap_err().status(), 500);
    }
}
