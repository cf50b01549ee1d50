package dev.txguard.it;

/** The failure that hits a legacy service after its DAO returned: its transaction must roll back whole. */
final class ServiceFailure extends RuntimeException {
    ServiceFailure() {
        super("the service failed after its DAO returned");
    }
}
