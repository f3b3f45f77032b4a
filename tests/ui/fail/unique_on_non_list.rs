use std::collections::HashMap;

use factum::Extract;
use serde::Deserialize;

#[derive(Deserialize, Extract)]
struct Meeting {
    #[extract(unique)]
    title: String,
    #[extract(unique)]
    seats: u32,
    #[extract(unique)]
    by_room: HashMap<String, String>,
    #[extract(unique)]
    attendees: Vec<String>,
}

fn main() {}
