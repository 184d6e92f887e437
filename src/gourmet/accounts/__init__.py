"""Who may do what. For now: the staff bearer token; accounts and roles come later."""
