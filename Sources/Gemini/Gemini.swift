import Providers

// Gemini adapters; see the README section "Providers".
