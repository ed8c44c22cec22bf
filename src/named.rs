//! Values the command line names: one way to print and parse an enum by its name, and one
//! serde string form for values that parse from text, so every such type reads, prints and
//! rejects bad input (listing what is allowed) alike.

/// `Display` (the value's `name()`) and `FromStr` (by [`crate::Error::by_name`] against every
/// value in `$all`, naming `$what` in the error) for an enum named on the command line.
macro_rules! by_name {
    ($ty:ty, $what:literal, $all:expr) => {
        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.name())
            }
        }

        impl std::str::FromStr for $ty {
            type Err = $crate::error::Error;

            fn from_str(s: &str) -> $crate::error::Result<Self> {
                $crate::error::Error::by_name($what, s, &$all, |v: &$ty| v.name())
            }
        }
    };
}
pub(crate) use by_name;

/// The serde string form of a type that prints with `Display` and parses with `FromStr`
/// (with `#[serde(try_from = "String", into = "String")]` on the type).
macro_rules! string_form {
    ($ty:ty) => {
        impl TryFrom<String> for $ty {
            type Error = $crate::error::Error;
            fn try_from(s: String) -> $crate::error::Result<Self> {
                s.parse()
            }
        }

        impl From<$ty> for String {
            fn from(v: $ty) -> String {
                v.to_string()
            }
        }
    };
}
pub(crate) use string_form;

/// Checks that every value of `all` prints as a name that parses back to it, and that `bad` is
/// refused as bad input whose message names it and lists `listed` among the allowed names.
#[cfg(test)]
pub(crate) fn assert_names_round_trip<T>(all: &[T], bad: &str, listed: &str)
where
    T: std::fmt::Display
        + std::str::FromStr<Err = crate::error::Error>
        + PartialEq
        + std::fmt::Debug,
{
    for v in all {
        assert_eq!(&v.to_string().parse::<T>().unwrap(), v);
    }
    let e = bad.parse::<T>().unwrap_err();
    assert!(e.is_usage(), "{e}");
    let text = e.to_string();
    assert!(
        text.contains(&format!("'{bad}'")) && text.contains(listed),
        "{text}"
    );
}
