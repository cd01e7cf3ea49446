//! Who is looking at the dashboard: the person of a valid session cookie, with the CSRF
//! token of that session (`admission` extracts it from a request).

use clef_pro_app::principal::Person;
use clef_pro_schema::event::Role;

pub struct Visitor {
    pub person: Person,
    /// The CSRF token of this session, for the forms of the page.
    pub csrf: String,
    pub(super) session: String,
}

impl Visitor {
    pub fn is_admin(&self) -> bool {
        self.person.role == Role::Admin
    }

    /// The session's cookie value.
    pub fn session(&self) -> &str {
        &self.session
    }

    pub fn role_name(&self) -> &'static str {
        if self.is_admin() { "admin" } else { "viewer" }
    }
}
