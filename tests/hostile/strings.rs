//! Hostile spec strings pushed through every artifact kind, and inputs that exhaust resources.
