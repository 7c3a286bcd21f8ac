"""Who people are: local passwords, LDAP / Active Directory, OpenID Connect, the role catalogue, the
admin audit trail, and the one sign-in path the web page and the API share (docs/identity.md)."""
