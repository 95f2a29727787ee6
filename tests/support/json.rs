//! Reading what the binary wrote as JSON: reports, session indexes and listings.

use std::path::Path;

use serde_json::Value;

/// A JSON file the binary saved (a report, a session index), parsed; a missing or broken file
/// panics naming it.
pub fn read_json(path: &Path) -> Value {
    serde_json::from_slice(
        &std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())),
    )
    .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The string `field` of every element of the JSON array `array`, in order: a report's parts,
/// its sentences' labels, a history's verdicts. Panics if one is missing.
pub fn strings<'a>(array: &'a Value, field: &str) -> Vec<&'a str> {
    array
        .as_array()
        .unwrap_or_else(|| panic!("not an array: {array}"))
        .iter()
        .map(|item| {
            item[field]
                .as_str()
                .unwrap_or_else(|| panic!("no {field:?} in {item}"))
        })
        .collect()
}

/// The element of the JSON array `array` whose `key` is `value` (a model in a listing, a part in
/// a report), cloned; panics if there is none.
pub fn find(array: &Value, key: &str, value: &str) -> Value {
    array
        .as_array()
        .unwrap_or_else(|| panic!("not an array: {array}"))
        .iter()
        .find(|item| item[key] == value)
        .cloned()
        .unwrap_or_else(|| panic!("no {key} = {value:?} in {array}"))
}
