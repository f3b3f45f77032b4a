use factum::Extract;

/// A person, without serde's `Deserialize`.
#[derive(Extract)]
struct Person {
    name: String,
}

fn main() {
    let _ = factum::schema::<Person>();
}
