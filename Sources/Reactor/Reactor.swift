// Placeholder until the reactor core lands.
