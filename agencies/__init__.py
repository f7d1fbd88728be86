"""Patent and trademark agencies: the credit-rated directory, profiles, credit events, follows."""
