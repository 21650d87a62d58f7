//! The login form (the only page without a session).

use maud::{DOCTYPE, Markup, html};

use super::layout::head;

/// The login page. `csrf` is the pre-session token also set as a cookie.
pub fn login_page(base: &str, csrf: &str, error: Option<&str>) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            (head("Log in"))
            body {
                main.login {
                    div.card {
                        h1 { "fmd dashboard" }
                        div.sub { "Log in to see your service's performance and errors." }
                        @if let Some(e) = error { div.error role="alert" { (e) } }
                        form method="post" action=(format!("{base}/login")) {
                            input type="hidden" name="csrf" value=(csrf);
                            label for="username" { "Username" }
                            input #username name="username" autocomplete="username" required autofocus;
                            label for="password" { "Password" }
                            input #password name="password" type="password" autocomplete="current-password" required;
                            button type="submit" { "Log in" }
                        }
                    }
                }
            }
        }
    }
}
