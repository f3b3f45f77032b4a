use std::rc::Rc;

use factum::Extract;
use serde::Deserialize;

#[derive(Deserialize, Extract)]
struct Note {
    title: Rc<String>,
}

fn main() {}
