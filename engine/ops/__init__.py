"""Operations: the production stack launcher, rate limiting, TLS settings. Nothing here is domain logic."""
