// Placeholder until HTTPCore lands.
