package dev.txguard.internal;

import java.sql.SQLException;

/**
 * The errors txguard raises. All carry SQLState class 25 (invalid transaction state): never 08xxx
 * or 0A000, which make connection pools evict a healthy connection.
 */
final class Errors {

    /** Active SQL transaction: a durable block found one already open. */
    static final String ACTIVE_TRANSACTION = "25001";
    /**
     * Schema and data statement mixing not supported: DDL, or another statement or call that would commit an
     * enclosing scope.
     */
    static final String IMPLICIT_COMMIT_IN_NESTED_SCOPE = "25007";
    static final String INVALID_STATE = "25000";

    private Errors() {}

    static SQLException config(String message) {
        return new SQLException("txguard configuration: " + message, INVALID_STATE);
    }

    static SQLException state(String message) {
        return new SQLException("txguard: " + message, INVALID_STATE);
    }

    static SQLException state(String message, Throwable cause) {
        return new SQLException("txguard: " + message, INVALID_STATE, cause);
    }

    static SQLException durable(String message) {
        return new SQLException("txguard: " + message, ACTIVE_TRANSACTION);
    }

    static SQLException implicitCommit(String message) {
        return new SQLException("txguard: " + message, IMPLICIT_COMMIT_IN_NESTED_SCOPE);
    }
}
