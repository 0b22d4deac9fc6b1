"""The simulated world: who the customers and tutors are, their rhythms, behaviour and matching."""
