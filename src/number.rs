//! Parsing the numbers users type: `100000000`, `100_000_000`, `1e8`, `2.5e6`, `100M`.
//!
//! Every form must denote an exact integer in `0..=u64::MAX`; anything else is an
//! [`Error::Invalid`] naming the value. Suffixes are decimal (`K` = 10^3, `M` = 10^6,
//! `G` = 10^9, `T` = 10^12, `P` = 10^15), case-insensitive; there is no suffix for 10^18,
//! since `e` is the exponent (`1e18`).

use crate::error::{Error, Result};

const ALLOWED: &str = "expected a non-negative integer up to 18446744073709551615, such as 100000000, 100_000_000, 1e8 or 100M";

/// Parses a user-written non-negative integer.
///
/// # Examples
/// ```
/// use parlab::number::parse_u64;
/// assert_eq!(parse_u64("1e8").unwrap(), 100_000_000);
/// assert_eq!(parse_u64("100_000_000").unwrap(), 100_000_000);
/// assert_eq!(parse_u64("100M").unwrap(), 100_000_000);
/// assert_eq!(parse_u64("2.5k").unwrap(), 2_500);
/// assert!(parse_u64("1.5").is_err());
/// ```
pub fn parse_u64(text: &str) -> Result<u64> {
    parse_u64_as("number", text)
}

/// Like [`parse_u64`], naming the value as `what` in the error.
pub fn parse_u64_as(what: &'static str, text: &str) -> Result<u64> {
    parse_exact(what, text).map_err(|why| match why {
        Refused::TooLarge => Error::invalid(
            what,
            text,
            "too large; the largest allowed is 18446744073709551615 (u64::MAX)",
        ),
        Refused::Bad(e) => e,
    })
}

/// Like [`parse_u64_as`] for a value allowed from `lo` to `hi`: any number outside, however
/// large (beyond `u64::MAX` too), is refused naming that range.
///
/// ```
/// use parlab::number::parse_u64_in;
/// assert_eq!(parse_u64_in("workers", "1e3", 1, 1024).unwrap(), 1000);
/// let e = parse_u64_in("workers", "18446744073709551616", 1, 1024).unwrap_err();
/// assert!(e.to_string().contains("between 1 and 1024"), "{e}");
/// ```
pub fn parse_u64_in(what: &'static str, text: &str, lo: u64, hi: u64) -> Result<u64> {
    match parse_exact(what, text) {
        Ok(n) if (lo..=hi).contains(&n) => Ok(n),
        Ok(_) | Err(Refused::TooLarge) => Err(Error::invalid(
            what,
            text,
            format!("must be between {lo} and {hi}"),
        )),
        Err(Refused::Bad(e)) => Err(e),
    }
}

/// Why a text is not a `u64`: beyond it, or not a whole number at all.
enum Refused {
    TooLarge,
    Bad(Error),
}

fn parse_exact(what: &'static str, text: &str) -> std::result::Result<u64, Refused> {
    let bad = || Refused::Bad(Error::invalid(what, text, ALLOWED));
    let cleaned: String = text.trim().chars().filter(|&c| c != '_').collect();
    if cleaned.is_empty() || text.trim().starts_with('_') {
        return Err(bad());
    }
    let (mantissa, exp10) = split_exponent(&cleaned).ok_or_else(bad)?;
    let (int_digits, frac_digits) = match mantissa.split_once('.') {
        Some((i, f)) => (i, f),
        None => (mantissa, ""),
    };
    if (int_digits.is_empty() && frac_digits.is_empty())
        || !int_digits.bytes().all(|b| b.is_ascii_digit())
        || !frac_digits.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(bad());
    }
    // value = digits * 10^(exp10 - frac_len), computed exactly in u128 with overflow checks.
    let digits = format!("{int_digits}{frac_digits}");
    let digits = digits.trim_start_matches('0');
    let mut shift = exp10 - frac_digits.len() as i64;
    let mut digits = digits.to_string();
    while shift < 0 {
        // Dropping a fractional digit is only exact when it is zero.
        match digits.pop() {
            Some('0') => shift += 1,
            None => return Ok(0),
            Some(_) => {
                return Err(Refused::Bad(Error::invalid(
                    what,
                    text,
                    "not a whole number; expected a non-negative integer",
                )));
            }
        }
    }
    let too_big = || Refused::TooLarge;
    if digits.len() > 20 {
        return Err(too_big());
    }
    let mut value: u128 = if digits.is_empty() {
        0
    } else {
        digits.parse::<u128>().map_err(|_| bad())?
    };
    for _ in 0..shift {
        if value == 0 {
            break;
        }
        value = value
            .checked_mul(10)
            .filter(|v| *v <= u64::MAX as u128)
            .ok_or_else(too_big)?;
    }
    u64::try_from(value).map_err(|_| too_big())
}

/// Splits `1.5e6` / `100M` into a mantissa and a power of ten.
fn split_exponent(s: &str) -> Option<(&str, i64)> {
    let last = s.chars().last()?;
    let suffix = match last.to_ascii_uppercase() {
        'K' => Some(3),
        'M' => Some(6),
        'G' => Some(9),
        'T' => Some(12),
        'P' => Some(15),
        _ => None,
    };
    if let Some(exp) = suffix {
        return Some((&s[..s.len() - 1], exp));
    }
    if let Some(pos) = s.find(['e', 'E']) {
        let (m, e) = (&s[..pos], &s[pos + 1..]);
        let e = e.strip_prefix('+').unwrap_or(e);
        if e.is_empty() || !e.bytes().all(|b| b.is_ascii_digit()) || e.len() > 3 {
            return None;
        }
        return Some((m, e.parse().ok()?));
    }
    Some((s, 0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_every_documented_form() {
        for (text, want) in [
            ("0", 0),
            ("100000000", 100_000_000),
            ("100_000_000", 100_000_000),
            ("1e8", 100_000_000),
            ("1E8", 100_000_000),
            ("1e+8", 100_000_000),
            ("2.5e6", 2_500_000),
            ("100M", 100_000_000),
            ("100m", 100_000_000),
            ("4k", 4_000),
            ("1.5G", 1_500_000_000),
            ("18446744073709551615", u64::MAX),
            ("1.0", 1),
            ("0.0e0", 0),
            ("000123", 123),
        ] {
            assert_eq!(parse_u64(text).unwrap(), want, "{text}");
        }
    }

    #[test]
    fn rejects_bad_numbers_naming_them() {
        for text in [
            "",
            "abc",
            "-1",
            "1.5",
            "1e",
            "e8",
            "1e-1",
            "18446744073709551616",
            "1e20",
            "99999P",
            "1..2",
            "0x10",
            "_1",
            " ",
            "1.2.3",
            "1e9999",
        ] {
            let err = parse_u64(text).unwrap_err();
            assert!(err.is_usage(), "{text}");
            assert!(err.to_string().contains(&format!("'{text}'")), "{err}");
        }
    }
}
