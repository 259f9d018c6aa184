//! A generic YAML/JSON document tree that keeps YAML tags, for templates: CloudFormation short
//! tags (`!Ref`, `!GetAtt`, `!Sub`, `!If`, `!Join`...) parse and are recognized as unresolved
//! intrinsic functions, as are their JSON forms (`{"Ref": ...}`, `{"Fn::Sub": ...}`).

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

/// Templates larger than this are refused.
pub(crate) const MAX_TEMPLATE_BYTES: u64 = 16 * 1024 * 1024;

/// A node: its value and its YAML tag (`!Ref`), if any.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Node {
    pub value: Value,
    pub tag: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    Null,
    Bool(bool),
    Number(String),
    Str(String),
    Seq(Vec<Node>),
    Map(Vec<(String, Node)>),
}

impl Node {
    /// The value under `key` of a mapping.
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.value {
            Value::Map(entries) => entries.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// A path of keys.
    pub fn at(&self, keys: &[&str]) -> Option<&Node> {
        keys.iter().try_fold(self, |node, key| node.get(key))
    }

    pub fn entries(&self) -> &[(String, Node)] {
        match &self.value {
            Value::Map(entries) => entries,
            _ => &[],
        }
    }

    pub fn items(&self) -> &[Node] {
        match &self.value {
            Value::Seq(items) => items,
            _ => &[],
        }
    }

    /// An intrinsic function (`!Ref X`, `{"Fn::GetAtt": ...}`): its name.
    pub fn intrinsic(&self) -> Option<&str> {
        if let Some(tag) = self.tag.as_deref().filter(|t| t.starts_with('!') && !t.starts_with("!!")) {
            return Some(tag);
        }
        match &self.value {
            Value::Map(entries) if entries.len() == 1 => {
                let key = entries.first().map(|(k, _)| k.as_str())?;
                (key == "Ref" || key == "Condition" || key.starts_with("Fn::")).then_some(key)
            }
            _ => None,
        }
    }

    /// A plain scalar as text (strings, numbers, booleans); `None` for intrinsic functions,
    /// collections and null.
    pub fn as_str(&self) -> Option<&str> {
        if self.intrinsic().is_some() {
            return None;
        }
        match &self.value {
            Value::Str(s) | Value::Number(s) => Some(s),
            Value::Bool(true) => Some("true"),
            Value::Bool(false) => Some("false"),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match &self.value {
            Value::Bool(b) => Some(*b),
            Value::Str(s) => s.parse().ok(),
            _ => None,
        }
    }

    /// What kind of value this is, for messages: `a mapping`, `a list`, `a string`, ...
    pub fn kind(&self) -> &'static str {
        match &self.value {
            Value::Null => "nothing (null)",
            Value::Bool(_) => "a boolean",
            Value::Number(_) => "a number",
            Value::Str(_) => "a string",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a mapping",
        }
    }

    /// The entries of a mapping, `[]` when absent, or an error naming `key` when the value has
    /// another type (a template whose `functions` is a list must not read as "no functions").
    pub fn mapping_at<'n>(parent: &'n Node, key: &str) -> Result<&'n [(String, Node)], String> {
        match parent.get(key) {
            None => Ok(&[]),
            Some(node) if matches!(node.value, Value::Map(_)) => Ok(node.entries()),
            Some(node) => Err(format!("{key}: expected a mapping, found {} ({})", node.kind(), node.describe())),
        }
    }

    /// A short description for notes: `!Ref CodeBucket`, `{"Fn::Sub": ...}`, `a string`.
    pub fn describe(&self) -> String {
        let inner = match &self.value {
            Value::Str(s) | Value::Number(s) => s.clone(),
            Value::Map(entries) if entries.len() == 1 => {
                entries.first().map(|(k, v)| format!("{k}: {}", v.describe())).unwrap_or_default()
            }
            Value::Seq(items) => format!("[{}]", items.iter().map(Node::describe).collect::<Vec<_>>().join(", ")),
            Value::Map(_) => "{...}".to_owned(),
            Value::Bool(b) => b.to_string(),
            Value::Null => "null".to_owned(),
        };
        let mut text = match &self.tag {
            Some(tag) if !tag.starts_with("!!") && !tag.starts_with("tag:") => format!("{tag} {inner}"),
            _ => inner,
        };
        if text.chars().count() > 80 {
            text = text.chars().take(77).collect::<String>() + "...";
        }
        text
    }
}

/// Parses YAML (any `.yml`/`.yaml`) or JSON text into a tree. An empty document is `Null`.
pub(crate) fn parse(text: &str, json: bool) -> Result<Node, String> {
    if json {
        return serde_json::from_str(text).map_err(|e| e.to_string());
    }
    if let Some(line) = crate::lockfile::yaml_block_too_deep(text, crate::lockfile::MAX_YAML_BLOCK_COLUMNS) {
        return Err(format!(
            "line {line}: block nesting deeper than {} columns of indentation and `- ` items",
            crate::lockfile::MAX_YAML_BLOCK_COLUMNS
        ));
    }
    let mut budget = serde_saphyr::Budget::default();
    budget.max_nodes = 2_000_000;
    let mut options = serde_saphyr::Options::default();
    options.budget = Some(budget);
    options.duplicate_keys = serde_saphyr::DuplicateKeyPolicy::LastWins;
    // Comments are still scanned and validated, but not turned into events: a template's
    // comments are never read, and their events were parsed, budgeted and skipped per node.
    options.emit_comments = false;
    let node: Option<Node> = serde_saphyr::from_str_with_options(text, options).map_err(|e| {
        let msg = e.to_string();
        msg.lines().next().unwrap_or(&msg).trim_start_matches("error: ").to_owned()
    })?;
    Ok(node.unwrap_or(Node { value: Value::Null, tag: None }))
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let serde_saphyr::Tagged(value, tag) = serde_saphyr::Tagged::<Value>::deserialize(deserializer)?;
        Ok(Node { value, tag })
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ValueVisitor)
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML or JSON value")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.to_string()))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.to_string()))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        Ok(Value::Number(v.to_string()))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        Ok(Value::Str(v.to_owned()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        Ok(Value::Str(v))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        Value::deserialize(d)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Node>()? {
            items.push(item);
        }
        Ok(Value::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut entries: Vec<(String, Node)> = Vec::new();
        while let Some((key, value)) = map.next_entry::<Node, Node>()? {
            let key = match key.value {
                Value::Str(s) | Value::Number(s) => s,
                Value::Bool(b) => b.to_string(),
                other => format!("{other:?}"),
            };
            entries.push((key, value));
        }
        Ok(Value::Map(entries))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cloudformation_short_tags_parse_and_are_unresolved() {
        let text = "Resources:\n  F:\n    Properties:\n      CodeUri: !Ref Code\n      Runtime: python3.12\n      \
                    Env: !If [IsProd, !Sub '${A}', !GetAtt X.Arn]\n      J: !Join\n        - ''\n        - [a, !Ref B]\n";
        let doc = parse(text, false).expect("parses");
        let props = doc.at(&["Resources", "F", "Properties"]).expect("props");
        assert_eq!(props.get("Runtime").and_then(Node::as_str), Some("python3.12"));
        let code = props.get("CodeUri").expect("CodeUri");
        assert_eq!(code.as_str(), None);
        assert_eq!(code.intrinsic(), Some("!Ref"));
        assert_eq!(code.describe(), "!Ref Code");
        assert_eq!(props.get("Env").and_then(Node::intrinsic), Some("!If"));
    }

    #[test]
    fn json_intrinsics_are_unresolved() {
        let doc = parse(r#"{"A": {"Ref": "X"}, "B": {"Fn::Sub": "x"}, "C": "plain", "D": 3}"#, true).expect("json");
        assert_eq!(doc.get("A").and_then(Node::as_str), None);
        assert_eq!(doc.get("B").and_then(Node::intrinsic), Some("Fn::Sub"));
        assert_eq!(doc.get("C").and_then(Node::as_str), Some("plain"));
        assert_eq!(doc.get("D").and_then(Node::as_str), Some("3"));
    }
}
