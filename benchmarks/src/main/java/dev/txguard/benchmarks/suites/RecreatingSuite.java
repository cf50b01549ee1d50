package dev.txguard.benchmarks.suites;

import java.sql.Connection;
import java.sql.SQLException;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** What other legacy suites do: the schema is dropped and created again before each test. */
public class RecreatingSuite {

    @BeforeEach
    void recreate() throws SQLException {
        try (Connection c = SuiteBank.poolOf(RecreatingSuite.class).getConnection()) {
            SuiteBank.dropSchema(c);
            SuiteBank.createSchema(c);
        }
    }

    @ParameterizedTest
    @MethodSource("dev.txguard.benchmarks.suites.SuiteBank#tests")
    void transfer(int test) throws SQLException {
        SuiteBank.transferTest(SuiteBank.poolOf(RecreatingSuite.class));
    }
}
