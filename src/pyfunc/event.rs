//! What a worker interpreter says, one line each on its events descriptor (`worker.py`'s
//! protocol): the [`Event`]s, a failed part's [`PythonException`] and the check's
//! [`CheckOutcome`], each read from its line ([`Event::parse`]).

use num_bigint::BigInt;
use serde::Deserialize;

/// What the Python side reported about a failed part.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct PythonException {
    /// The exception's type, e.g. `ValueError`; `TypeError` for a non-int answer.
    #[serde(rename = "type")]
    pub kind: String,
    /// The exception's message.
    pub message: String,
    /// The last traceback line: `file.py:12 in work: raise ValueError(...)`.
    #[serde(rename = "where")]
    pub place: String,
    /// Map mode: the item it failed on, `17: 'line text'`.
    #[serde(default)]
    pub item: Option<String>,
    /// Map mode: the type of the value that could not be pickled to cross between
    /// interpreters, where that was the failure.
    #[serde(default)]
    pub cross: Option<String>,
}

impl std::fmt::Display for PythonException {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.kind, self.message)?;
        let item = self.item.as_ref().map(|i| format!("on item {i}"));
        let place = (!self.place.is_empty()).then(|| format!("at {}", self.place));
        let said: Vec<String> = item.into_iter().chain(place).collect();
        if !said.is_empty() {
            write!(f, " ({})", said.join(", "))?;
        }
        Ok(())
    }
}

/// `check` mode's verdict.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub(crate) struct CheckOutcome {
    /// What is wrong with the file or function, if anything.
    pub error: Option<String>,
    /// Whether the GIL was on once the file was imported, where the interpreter can say.
    #[serde(default)]
    pub gil_after_import: Option<bool>,
    /// Map mode: how many items SOURCE gave.
    #[serde(default)]
    pub items: Option<u64>,
    /// Map mode: why SOURCE gave none.
    #[serde(default)]
    pub source_error: Option<String>,
}

/// One line from the worker.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Event {
    /// The interpreter runs the script and reads the user's file from now on.
    Loading,
    /// `check` mode's verdict.
    Checked(CheckOutcome),
    /// The function is loaded.
    Ready,
    /// A part has begun.
    Start(u64),
    /// A part's exact answer.
    Done(u64, BigInt),
    /// A part raised or returned a non-int.
    Fail(u64, PythonException),
    /// Map mode: a chunk's results are kept in the interpreter.
    Ok(u64),
    /// Bytes for part or request `I`: item or result forms.
    Data(u64, Vec<u8>),
    /// An answer in JSON (the helper's).
    Info(serde_json::Value),
    /// Every part of a request was answered, or one failed; with the CPU seconds the
    /// interpreter's process used on the request (every thread), where it said.
    End(Option<f64>),
}

impl Event {
    /// The event in a few words, for a message (a payload by its size only).
    pub(crate) fn brief(&self) -> String {
        match self {
            Event::Data(i, data) => format!("data {i} ({} bytes)", data.len()),
            Event::Info(v) => {
                let text = v.to_string();
                format!("info {}", text.chars().take(80).collect::<String>())
            }
            other => format!("{other:?}"),
        }
    }

    /// Reads one protocol line.
    pub(crate) fn parse(line: &str) -> std::result::Result<Event, String> {
        let mut words = line.splitn(3, ' ');
        let head = words.next().unwrap_or("");
        let index = |w: Option<&str>| {
            w.and_then(|w| w.parse::<u64>().ok())
                .ok_or_else(|| format!("sent a line without a part number: {line:?}"))
        };
        match head {
            "loading" => Ok(Event::Loading),
            "checked" => {
                let text = line.strip_prefix("checked").unwrap_or("").trim();
                serde_json::from_str::<CheckOutcome>(text)
                    .map(Event::Checked)
                    .map_err(|e| format!("sent an unreadable check: {e}"))
            }
            "ready" => Ok(Event::Ready),
            "end" => Ok(Event::End(
                words
                    .next()
                    .and_then(|w| w.parse::<f64>().ok())
                    .filter(|c| c.is_finite() && *c >= 0.0),
            )),
            "start" => Ok(Event::Start(index(words.next())?)),
            "ok" => Ok(Event::Ok(index(words.next())?)),
            "info" => {
                let rest = line.split_once(' ').map_or("", |(_, r)| r);
                serde_json::from_str(rest)
                    .map(Event::Info)
                    .map_err(|e| format!("sent an unreadable answer: {e}"))
            }
            "done" => {
                let i = index(words.next())?;
                let value = words.next().unwrap_or("");
                let v = value
                    .parse::<BigInt>()
                    .map_err(|_| format!("sent an answer that is not an int: {value:?}"))?;
                Ok(Event::Done(i, v))
            }
            "fail" => {
                let i = index(words.next())?;
                let fault = serde_json::from_str(words.next().unwrap_or(""))
                    .map_err(|e| format!("sent an unreadable failure: {e}"))?;
                Ok(Event::Fail(i, fault))
            }
            _ => Err(format!("sent an unexpected line: {line:?}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protocol_lines_read_as_events() {
        assert_eq!(Event::parse("loading"), Ok(Event::Loading));
        let verdict = |error: Option<&str>, items| {
            Ok(Event::Checked(CheckOutcome {
                error: error.map(str::to_string),
                gil_after_import: None,
                items,
                source_error: None,
            }))
        };
        assert_eq!(
            Event::parse(r#"checked {"error": null}"#),
            verdict(None, None)
        );
        assert_eq!(
            Event::parse(r#"checked {"error": "no function f"}"#),
            verdict(Some("no function f"), None)
        );
        assert_eq!(
            Event::parse(r#"checked {"error": null, "items": 12}"#),
            verdict(None, Some(12))
        );
        assert_eq!(Event::parse("ok 4"), Ok(Event::Ok(4)));
        assert_eq!(
            Event::parse(r#"info {"differs": null}"#),
            Ok(Event::Info(serde_json::json!({"differs": null})))
        );
        assert!(Event::parse("info {").is_err());
        assert!(Event::parse("checked nonsense").is_err());
        assert_eq!(Event::parse("ready"), Ok(Event::Ready));
        assert_eq!(Event::parse("end"), Ok(Event::End(None)));
        assert_eq!(Event::parse("end 0.25"), Ok(Event::End(Some(0.25))));
        assert_eq!(Event::parse("end nan"), Ok(Event::End(None)));
        assert_eq!(Event::parse("start 3"), Ok(Event::Start(3)));
        let big = "123456789012345678901234567890123456789";
        assert_eq!(
            Event::parse(&format!("done 2 {big}")),
            Ok(Event::Done(2, big.parse().unwrap()))
        );
        assert_eq!(
            Event::parse("done 2 -5"),
            Ok(Event::Done(2, BigInt::from(-5)))
        );
        let fail =
            r#"fail 1 {"type": "ValueError", "message": "boom", "where": "f.py:3 in f: raise"}"#;
        let Ok(Event::Fail(1, fault)) = Event::parse(fail) else {
            panic!("{fail}");
        };
        assert_eq!(
            fault.to_string(),
            "ValueError: boom (at f.py:3 in f: raise)"
        );
        let fail =
            r#"fail 1 {"type": "KeyError", "message": "'k'", "where": "", "item": "3: 'x'"}"#;
        let Ok(Event::Fail(1, fault)) = Event::parse(fail) else {
            panic!("{fail}");
        };
        assert_eq!(fault.to_string(), "KeyError: 'k' (on item 3: 'x')");
        assert!(Event::parse("done x 1").is_err());
        assert!(
            Event::parse("done 1 1.5")
                .unwrap_err()
                .contains("not an int")
        );
        assert!(Event::parse("hello").is_err());
    }
}
