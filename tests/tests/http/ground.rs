//! The roster server the chunk journal tests run against: a loopback server that reads the
//! roster as a model would. The grounding and chunking judgement tests run on the scripted
//! client, in the `judgement` binary.

pub(crate) use factum_tests::scripted::{Member, ROSTER, roster};

use factum_tests::http::chat;
use factum_tests::scripted::roster_reply;
use wiremock::MockServer;

/// A model stand-in behind the loopback server: it answers as [`roster_reply`] does, with
/// `fail_on`.
struct Reader {
    fail_on: Option<&'static str>,
    /// How long every chunk but the first (the one naming Ada King) waits for its reply.
    later: std::time::Duration,
}

impl wiremock::Respond for Reader {
    fn respond(&self, request: &wiremock::Request) -> wiremock::ResponseTemplate {
        let body: serde_json::Value = serde_json::from_slice(&request.body).unwrap();
        let content = roster_reply(&body, self.fail_on);
        let first = body.to_string().contains("Ada King is");
        let delay = if first {
            std::time::Duration::ZERO
        } else {
            self.later
        };
        wiremock::ResponseTemplate::new(200)
            .set_body_json(chat(&content, 10, 5))
            .set_delay(delay)
    }
}

/// A loopback server answering every chat request as [`Reader`] does.
pub(crate) async fn roster_server(fail_on: Option<&'static str>) -> MockServer {
    slow_roster_server(fail_on, std::time::Duration::ZERO).await
}

/// [`roster_server`], every chunk after the first answered `later`.
pub(crate) async fn slow_roster_server(
    fail_on: Option<&'static str>,
    later: std::time::Duration,
) -> MockServer {
    let server = MockServer::start().await;
    wiremock::Mock::given(wiremock::matchers::method("POST"))
        .respond_with(Reader { fail_on, later })
        .mount(&server)
        .await;
    server
}
