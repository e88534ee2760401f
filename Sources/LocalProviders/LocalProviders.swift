import Providers

// LocalProviders adapters; see the README section "Providers".
