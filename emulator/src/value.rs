//! The protocol-neutral value tree.
//!
//! Handlers read their input as a [`Value`] and return a [`Value`]; the codecs in
//! [`crate::protocol`] are the only code that knows about XML, JSON or CBOR. Member names are the
//! wire member names of the service model (PascalCase for most services, the `locationName` for
//! EC2, whose XML names are not derivable from the shape names).

use chrono::{DateTime, Utc};

/// A protocol-neutral value: what a request carried, or what a handler answers.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Timestamp(DateTime<Utc>),
    Blob(Vec<u8>),
    List(Vec<Value>),
    /// A string-keyed map (Tags in JSON services, encryption contexts): encoded as `entry`
    /// elements in query XML, as an object in JSON and CBOR.
    Map(Vec<(String, Value)>),
    /// A structure with named members, in the order the model lists them.
    Struct(Vec<(String, Value)>),
}

impl Value {
    /// An empty structure, to be filled with [`Value::with`].
    pub fn structure() -> Value {
        Value::Struct(Vec::new())
    }

    /// Adds a member to a structure (or map) and returns it, for building outputs fluently.
    pub fn with(mut self, name: &str, value: impl Into<Value>) -> Value {
        self.push(name, value);
        self
    }

    /// Adds a member only when there is a value: absent members are left out of every encoding.
    pub fn with_opt<V: Into<Value>>(self, name: &str, value: Option<V>) -> Value {
        match value {
            Some(v) => self.with(name, v),
            None => self,
        }
    }

    pub fn push(&mut self, name: &str, value: impl Into<Value>) {
        match self {
            Value::Struct(fields) | Value::Map(fields) => fields.push((name.to_string(), value.into())),
            other => panic!("push on a non-structure value {other:?}"),
        }
    }

    /// Member lookup on a structure or map. Names compare exactly, as on the wire.
    pub fn get(&self, name: &str) -> Option<&Value> {
        match self {
            Value::Struct(fields) | Value::Map(fields) => {
                fields.iter().find(|(k, _)| k == name).map(|(_, v)| v)
            }
            _ => None,
        }
    }

    /// The value as text. Query protocols carry every scalar as text, so numbers and booleans
    /// are rendered too: a handler asks for what it needs and does not care which protocol came.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            Value::Float(f) if f.fract() == 0.0 => Some(*f as i64),
            Value::Str(s) => s.trim().parse().ok(),
            _ => None,
        }
    }

    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Int(i) => Some(*i as f64),
            Value::Float(f) => Some(*f),
            Value::Str(s) => s.trim().parse().ok(),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            Value::Str(s) if s.eq_ignore_ascii_case("true") => Some(true),
            Value::Str(s) if s.eq_ignore_ascii_case("false") => Some(false),
            _ => None,
        }
    }

    /// The elements of a list. A query request can only say "empty list" by leaving the member
    /// out, so a missing or null member is an empty list here.
    pub fn as_list(&self) -> &[Value] {
        match self {
            Value::List(items) => items,
            _ => &[],
        }
    }

    /// The members of a structure or map, in order.
    pub fn entries(&self) -> &[(String, Value)] {
        match self {
            Value::Struct(fields) | Value::Map(fields) => fields,
            _ => &[],
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::Str(s.to_string())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::Str(s)
    }
}

impl From<&String> for Value {
    fn from(s: &String) -> Self {
        Value::Str(s.clone())
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Self {
        Value::Int(i)
    }
}

impl From<i32> for Value {
    fn from(i: i32) -> Self {
        Value::Int(i64::from(i))
    }
}

impl From<u32> for Value {
    fn from(i: u32) -> Self {
        Value::Int(i64::from(i))
    }
}

impl From<usize> for Value {
    fn from(i: usize) -> Self {
        Value::Int(i as i64)
    }
}

impl From<f64> for Value {
    fn from(f: f64) -> Self {
        Value::Float(f)
    }
}

impl From<DateTime<Utc>> for Value {
    fn from(t: DateTime<Utc>) -> Self {
        Value::Timestamp(t)
    }
}

impl From<Vec<Value>> for Value {
    fn from(items: Vec<Value>) -> Self {
        Value::List(items)
    }
}

impl<T: Into<Value>> FromIterator<T> for Value {
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Self {
        Value::List(iter.into_iter().map(Into::into).collect())
    }
}
