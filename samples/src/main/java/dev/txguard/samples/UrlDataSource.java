package dev.txguard.samples;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;

/** The plainest DataSource: DriverManager with a URL, as many legacy apps hand-roll it. */
final class UrlDataSource extends PlainDataSource {

    private final String url;

    UrlDataSource(String url) {
        this.url = url;
    }

    @Override
    public Connection getConnection() throws SQLException {
        return DriverManager.getConnection(url);
    }

    @Override
    public Connection getConnection(String user, String password) throws SQLException {
        return DriverManager.getConnection(url, user, password);
    }
}
