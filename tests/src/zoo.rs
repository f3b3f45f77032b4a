//! A zoo of domain types covering every shape `#[derive(Extract)]` supports. The snapshot,
//! meta-validation, strict-subset and sample tests all run over it.

#![allow(
    missing_docs,
    dead_code,
    reason = "the zoo's types exist for their schemas; their fields are seldom read"
)]

use std::collections::{BTreeMap, HashMap};

use factum::Extract;
use serde::{Deserialize, Serialize};

/// A person mentioned in the text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Extract)]
pub struct Person {
    /// Full name, as written.
    pub name: String,
    /// Age in whole years.
    #[extract(range(min = 0, max = 150))]
    pub age: u8,
    /// Email address, if the text gives one.
    #[extract(format = "email")]
    pub email: Option<String>,
}

/// An invoice found in the text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Extract)]
#[serde(rename_all = "camelCase")]
#[extract(instructions = "Amounts are in the invoice's own currency.")]
pub struct Invoice {
    /// The invoice number exactly as printed.
    #[extract(pattern = r"^[A-Z]{2}-\d{4,}$")]
    pub invoice_number: String,
    /// Issue date.
    #[extract(format = "date")]
    pub issued_on: String,
    #[extract(length(min = 1))]
    pub lines: Vec<Line>,
    pub status: Status,
    #[serde(default)]
    pub notes: Option<String>,
}

/// One line of an invoice.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Extract)]
pub struct Line {
    /// What was sold.
    #[extract(length(min = 1, max = 200))]
    pub description: String,
    /// How many units.
    #[extract(range(min = 1))]
    pub quantity: u32,
    /// Price of one unit.
    #[extract(range(min = 0.0), example = 12.5)]
    pub unit_price: f64,
}

/// Where an invoice stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Extract)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Written but not sent.
    Draft,
    /// Sent and awaiting payment.
    Sent,
    /// Paid in full.
    Paid,
    /// Past its due date.
    Overdue,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Extract)]
#[serde(rename_all = "lowercase")]
pub enum Priority {
    Low,
    Medium,
    High,
}

/// A shape, externally tagged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Extract)]
pub enum Shape {
    /// A circle.
    Circle {
        #[extract(range(min = 0))]
        radius: f64,
    },
    /// A square given by its side.
    Square(f64),
    /// A single point.
    Point,
}

/// Something that happened, internally tagged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Extract)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// A login.
    Login { user: String, success: bool },
    /// A purchase, described by a line.
    Purchase(Line),
    /// The session ended.
    Logout,
}

/// A message, adjacently tagged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Extract)]
#[serde(tag = "kind", content = "data")]
pub enum Message {
    Text(String),
    Ping,
    Move { x: i32, y: i32 },
}

/// A value of one of several shapes, untagged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Extract)]
#[serde(untagged)]
pub enum Amount {
    Exact(f64),
    Range { low: f64, high: f64 },
    Unknown,
}

/// A page of results.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Extract)]
pub struct Page<T> {
    /// The items on this page.
    pub items: Vec<T>,
    /// Whether more pages follow.
    pub has_more: bool,
}

/// Two related things.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Extract)]
pub struct Pair<A, B> {
    pub first: A,
    pub second: B,
}

/// A tree of topics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Extract)]
pub struct Topic {
    pub title: String,
    /// Subtopics, possibly empty.
    pub children: Vec<Topic>,
}

/// A linked list of steps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Extract)]
pub struct Step {
    pub action: String,
    pub next: Option<Box<Step>>,
}

/// Free-form labels.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Extract)]
pub struct Labels {
    pub labels: HashMap<String, String>,
    pub counts: BTreeMap<String, u32>,
}

/// An email address.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Extract)]
pub struct Email(#[extract(pattern = r"^[^@\s]+@[^@\s]+$", format = "email")] pub String);

/// A score out of ten.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Extract)]
#[serde(transparent)]
pub struct Score {
    #[extract(range(min = 0, max = 10))]
    pub value: u8,
}

/// A postal address.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Extract)]
pub struct Address {
    pub street: String,
    pub city: String,
    /// Postal code as written.
    pub postcode: Option<String>,
}

/// A contact with an address flattened into it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Extract)]
pub struct Contact {
    pub name: String,
    #[serde(flatten)]
    pub address: Address,
}

/// A closed record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Extract)]
#[serde(deny_unknown_fields)]
pub struct Closed {
    pub id: u64,
    pub tags: Vec<String>,
}

/// Settings where every field has a default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Extract)]
#[serde(default)]
pub struct Settings {
    pub retries: u32,
    pub verbose: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            retries: 3,
            verbose: false,
        }
    }
}

/// A record with serde renames, aliases and skipped fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Extract)]
pub struct Renamed {
    #[serde(rename = "fullName", alias = "name")]
    pub full_name: String,
    #[serde(skip_deserializing)]
    pub internal: u32,
    #[serde(skip)]
    pub cache: Option<String>,
    #[serde(default = "default_score")]
    pub score: i32,
}

fn default_score() -> i32 {
    5
}

/// Variants whose fields are renamed together.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Extract)]
#[serde(rename_all_fields = "camelCase", tag = "op")]
pub enum Command {
    Create { item_name: String, item_count: u32 },
    Delete { item_id: u64 },
}

/// A record that holds arbitrary JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Extract)]
pub struct Freeform {
    pub kind: String,
    pub payload: serde_json::Value,
}

/// A ticket that must fit OpenAI strict mode, proven at compile time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Extract)]
#[extract(strict)]
pub struct Ticket {
    pub title: String,
    pub priority: Priority,
    pub tags: Vec<String>,
    pub estimate_hours: Option<f32>,
    pub steps: Vec<StrictStep>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Extract)]
#[extract(strict)]
pub struct StrictStep {
    pub text: String,
}

// Priority is a unit enum: strict too.
impl factum::__private::StrictSchema for Priority {}

/// Documented by attributes rather than doc comments.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Extract)]
#[extract(
    description = "A product listing.",
    example = r#"{"sku": "AB-1", "price": 9.99}"#
)]
pub struct Product {
    #[extract(description = "Stock keeping unit.", example = "AB-1")]
    pub sku: String,
    #[extract(range(min = 0), example = 9.99)]
    pub price: f64,
}

/// A type whose schema comes from schemars' own derive.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema, Extract)]
#[extract(schemars)]
pub struct Legacy {
    /// Kept from the schemars derive.
    #[schemars(range(min = 1, max = 9))]
    pub level: u8,
}

/// A booking with validators.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Extract)]
#[extract(validate = booking_dates_in_order)]
pub struct Booking {
    #[extract(validate = not_blank)]
    pub guest: String,
    pub nights: u32,
    pub check_in: String,
    pub check_out: String,
    pub companions: Vec<Person>,
}

/// A field validator: the value has text.
///
/// # Errors
///
/// When the value is empty or whitespace.
pub fn not_blank(value: &str) -> Result<(), String> {
    if value.trim().is_empty() {
        Err("must not be blank".into())
    } else {
        Ok(())
    }
}

/// A container validator: the stay ends after it starts.
///
/// # Errors
///
/// When `check_out` is not after `check_in`.
pub fn booking_dates_in_order(booking: &Booking) -> Result<(), String> {
    if booking.check_in < booking.check_out {
        Ok(())
    } else {
        Err(format!(
            "check_in {} is not before check_out {}",
            booking.check_in, booking.check_out
        ))
    }
}

/// An arithmetic expression, recursive through an enum.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Extract)]
#[serde(tag = "op", rename_all = "lowercase")]
pub enum Expr {
    Num { value: f64 },
    Neg { inner: Box<Expr> },
    Sum { terms: Vec<Expr> },
}

/// Objects nested six deep: too deep for OpenAI's conservative limit of five.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Extract)]
pub struct Deep1 {
    pub d2: Deep2,
}
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Extract)]
pub struct Deep2 {
    pub d3: Deep3,
}
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Extract)]
pub struct Deep3 {
    pub d4: Deep4,
}
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Extract)]
pub struct Deep4 {
    pub d5: Deep5,
}
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Extract)]
pub struct Deep5 {
    pub d6: Deep6,
}
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Extract)]
pub struct Deep6 {
    pub leaf: String,
}

/// An order with an optional nested address and a list of optional notes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Extract)]
pub struct Order {
    pub id: String,
    pub shipping: Option<Address>,
    pub notes: Vec<Option<String>>,
    #[extract(range(min = -40, max = 60))]
    pub temperature_c: Option<i16>,
}

/// Calls `$m!(Type)` for every zoo type, so each test covers the whole zoo.
#[macro_export]
macro_rules! for_each_zoo_type {
    ($m:ident) => {
        $m!(Person);
        $m!(Invoice);
        $m!(Line);
        $m!(Status);
        $m!(Priority);
        $m!(Shape);
        $m!(Event);
        $m!(Message);
        $m!(Amount);
        $m!(Page<Person>);
        $m!(Pair<Status, Address>);
        $m!(Topic);
        $m!(Step);
        $m!(Labels);
        $m!(Email);
        $m!(Score);
        $m!(Address);
        $m!(Contact);
        $m!(Closed);
        $m!(Settings);
        $m!(Renamed);
        $m!(Command);
        $m!(Freeform);
        $m!(Ticket);
        $m!(Product);
        $m!(Legacy);
        $m!(Booking);
        $m!(Expr);
        $m!(Deep1);
        $m!(Order);
    };
}
