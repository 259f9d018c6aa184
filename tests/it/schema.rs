//! Validates a JSON document against a schema shipped in `tests/schemas/`, offline: the other
//! schema files it refers to are registered under their `$id`, so nothing is fetched. Used by
//! the report tests (`reports.rs`, `scan.rs`).

/// Validation errors of `instance` against `tests/schemas/<schema>`, with the other schema
/// files it refers to registered under their `$id` (so nothing is fetched).
pub fn schema_errors(schema: &str, resources: &[(&str, &str)], instance: &serde_json::Value) -> Vec<String> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/schemas");
    let load = |file: &str| -> serde_json::Value {
        let text = fs_err::read_to_string(dir.join(file)).expect("schema file");
        serde_json::from_str(&text).expect("schema JSON")
    };
    let mut builder = jsonschema::Registry::new();
    for (uri, file) in resources {
        builder = builder.add(*uri, load(file)).expect("resource");
    }
    let registry = builder.prepare().expect("registry");
    let mut schema = load(schema);
    escape_bare_brackets(&mut schema);
    let validator = jsonschema::options()
        .with_registry(&registry)
        .should_validate_formats(true)
        .build(&schema)
        .expect("schema compiles offline");
    validator.iter_errors(instance).map(|e| format!("{}: {e}", e.instance_path())).collect()
}

/// SARIF rtm.5's `language` patterns have a bare `]` (a literal in ECMA-262 Annex B, which
/// the validator's regex engine rejects): the same language, with the `]` escaped.
fn escape_bare_brackets(schema: &mut serde_json::Value) {
    const BARE: &str = "^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$";
    match schema {
        serde_json::Value::Object(map) => {
            for (key, value) in map.iter_mut() {
                if key == "pattern" && value == BARE {
                    *value = r"^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}\]?$".into();
                } else {
                    escape_bare_brackets(value);
                }
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(escape_bare_brackets),
        _ => {}
    }
}
