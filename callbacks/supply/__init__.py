"""Supply pages' callbacks: tutors, forecast and supply, recommendations."""
