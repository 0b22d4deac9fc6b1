"""Supply pages: tutors, forecast and supply, recommendations."""
