"""Alert pages: the alert centre, an alert's detail, silences and detector rules."""
