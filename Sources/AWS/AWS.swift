import Providers

// AWS adapters; see the README section "Providers".
