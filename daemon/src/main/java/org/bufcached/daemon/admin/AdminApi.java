package org.bufcached.daemon.admin;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bufcached.config.BitmapConfig;
import org.bufcached.config.Sizes;
import org.bufcached.daemon.bitmap.DirtyBitmap;
import org.bufcached.daemon.bitmap.ExportBitmaps;
import org.bufcached.daemon.export.Export;
import org.bufcached.daemon.export.ExportRegistry;
import org.bufcached.daemon.net.ConnectionInfo;
import org.bufcached.daemon.net.Connections;
import org.bufcached.daemon.net.ExportConnections;
import org.bufcached.daemon.reload.Reloader;

/**
 * The admin API's requests, by method and path (see the README's "Admin socket"):
 *
 * <pre>
 * GET    /v1/exports                                   exports, their state, counters and bitmaps
 * GET    /v1/connections                               open connections
 * DELETE /v1/connections/ID                            close one
 * POST   /v1/exports/NAME/bitmaps {"name":B,"granularity":G}   add a bitmap
 * POST   /v1/exports/NAME/bitmaps/B/clear              clear it (durable when answered)
 * DELETE /v1/exports/NAME/bitmaps/B                    remove it and its file
 * POST   /v1/reload                                    reload the configuration, with its result
 * </pre>
 *
 * A request that does not fit changes nothing and gets {@code {"error": "..."}}
 * with 400 (malformed), 404 (no such export, bitmap, connection or path), 405
 * (method), 409 (bitmap exists) or 500 (the change failed on the disk).
 */
final class AdminApi {
    /** How long listing connections waits for their event loops. */
    private static final long LIST_MILLIS = 2000;

    private final ObjectMapper json = new ObjectMapper();
    private final ExportRegistry exports;
    private final Connections connections;
    private final Reloader reloader;

    AdminApi(ExportRegistry exports, Connections connections, Reloader reloader) {
        this.exports = exports;
        this.connections = connections;
        this.reloader = reloader;
    }

    ObjectMapper json() {
        return json;
    }

    /** Answers one request; {@code segments} is the decoded path without the empty first one. */
    AdminResponse handle(String method, List<String> segments, String body) {
        if (segments.size() < 2 || !segments.get(0).equals("v1")) {
            return AdminResponse.error(404, "no such path: the API is under /v1/");
        }
        List<String> rest = segments.subList(1, segments.size());
        try {
            switch (rest.get(0)) {
                case "exports":
                    return exports(method, rest, body);
                case "connections":
                    return connections(method, rest);
                case "reload":
                    return rest.size() == 1 ? requireMethod(method, "POST", this::reload) : notFound();
                default:
                    return notFound();
            }
        } catch (IllegalStateException e) {
            return AdminResponse.error(409, e.getMessage());
        } catch (IllegalArgumentException e) {
            return AdminResponse.error(404, e.getMessage());
        } catch (IOException e) {
            return AdminResponse.error(500, e.getMessage());
        }
    }

    private AdminResponse exports(String method, List<String> rest, String body) throws IOException {
        if (rest.size() == 1) {
            return requireMethod(method, "GET", () -> AdminResponse.ok(Map.of("exports", exportList()),
                    exports.all().size() + " exports"));
        }
        Export export = exports.find(rest.get(1));
        if (export == null || rest.get(1).isEmpty()) {
            return AdminResponse.error(404, "no export '" + rest.get(1) + "'");
        }
        if (rest.size() < 3 || !rest.get(2).equals("bitmaps")) {
            return notFound();
        }
        ExportBitmaps bitmaps = export.bitmaps();
        if (rest.size() == 3) {
            if (!method.equals("POST")) {
                return AdminResponse.error(405, "use POST to add a bitmap");
            }
            return addBitmap(export, bitmaps, body);
        }
        String bitmap = rest.get(3);
        if (rest.size() == 4) {
            if (!method.equals("DELETE")) {
                return AdminResponse.error(405, "use DELETE to remove a bitmap, POST .../clear to clear it");
            }
            bitmaps.remove(bitmap);
            return AdminResponse.ok(Map.of("removed", bitmap), "removed bitmap '" + bitmap + "' of export '"
                    + export.name() + "'");
        }
        if (rest.size() == 5 && rest.get(4).equals("clear")) {
            if (!method.equals("POST")) {
                return AdminResponse.error(405, "use POST to clear a bitmap");
            }
            bitmaps.clear(bitmap);
            return AdminResponse.ok(bitmapJson(bitmaps.find(bitmap)), "cleared bitmap '" + bitmap + "' of export '"
                    + export.name() + "'");
        }
        return notFound();
    }

    private AdminResponse addBitmap(Export export, ExportBitmaps bitmaps, String body) throws IOException {
        JsonNode request;
        try {
            request = json.readTree(body.isEmpty() ? "null" : body);
        } catch (JsonProcessingException e) {
            return AdminResponse.error(400, "malformed JSON: " + e.getOriginalMessage());
        }
        if (request == null || !request.isObject() || !request.path("name").isTextual()) {
            return AdminResponse.error(400, "expected {\"name\": \"B\", \"granularity\": 65536}");
        }
        String name = request.get("name").asText();
        var nameProblem = BitmapConfig.nameProblem(name);
        if (nameProblem.isPresent()) {
            return AdminResponse.error(400, nameProblem.get());
        }
        long granularity = BitmapConfig.DEFAULT_GRANULARITY;
        JsonNode g = request.get("granularity");
        if (g != null && !g.isNull()) {
            try {
                granularity = g.isIntegralNumber() ? g.asLong() : Sizes.parse(g.asText());
            } catch (IllegalArgumentException e) {
                return AdminResponse.error(400, "granularity: " + e.getMessage());
            }
            var problem = BitmapConfig.granularityProblem(granularity);
            if (problem.isPresent() || !(g.isIntegralNumber() || g.isTextual())) {
                return AdminResponse.error(400, problem.orElse("granularity: expected a number or a size"));
            }
        }
        DirtyBitmap added = bitmaps.add(name, granularity);
        return new AdminResponse(201, bitmapJson(added), "added bitmap '" + name + "' (granularity " + granularity
                + ") to export '" + export.name() + "'");
    }

    private List<Map<String, Object>> exportList() {
        List<Map<String, Object>> list = new ArrayList<>();
        for (Export e : exports.all()) {
            Map<String, Object> m = new LinkedHashMap<>();
            ExportConnections group = connections.of(e.store());
            String durability = e.store().durabilityState();
            m.put("name", e.name());
            m.put("path", e.path().toString());
            m.put("size", e.size());
            m.put("readonly", e.readOnly());
            m.put("state", group != null && group.draining() ? "draining" : "serving");
            m.put("durable", "clean".equals(durability));
            m.put("durability", durability);
            m.put("connections", group == null ? 0 : group.open());
            m.put("requests_in_flight", group == null ? 0 : group.inFlight());
            m.put("cache_hits", e.stats().cacheHits());
            m.put("cache_misses", e.stats().cacheMisses());
            m.put("dirty_bytes", e.stats().dirtyBytes());
            m.put("writeback_errors", e.stats().writebackErrors());
            m.put("bitmaps", e.bitmaps().all().stream().map(AdminApi::bitmapJson).toList());
            list.add(m);
        }
        return list;
    }

    private static Map<String, Object> bitmapJson(DirtyBitmap b) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", b.name());
        m.put("context", "qemu:dirty-bitmap:" + b.name());
        m.put("granularity", b.granularity());
        m.put("dirty_bytes", b.dirtyBytes());
        m.put("file", b.file().toString());
        m.put("created", java.time.Instant.ofEpochMilli(b.createdMillis()).toString());
        m.put("cleared", java.time.Instant.ofEpochMilli(b.clearedMillis()).toString());
        return m;
    }

    private AdminResponse connections(String method, List<String> rest) {
        if (rest.size() == 1) {
            return requireMethod(method, "GET", () -> {
                List<ConnectionInfo> open = connections.list(LIST_MILLIS);
                return AdminResponse.ok(Map.of("connections", open.stream().map(AdminApi::connectionJson).toList()),
                        open.size() + " connections");
            });
        }
        if (rest.size() != 2) {
            return notFound();
        }
        if (!method.equals("DELETE")) {
            return AdminResponse.error(405, "use DELETE to close a connection");
        }
        long id;
        try {
            id = Long.parseLong(rest.get(1));
        } catch (NumberFormatException e) {
            return AdminResponse.error(400, "a connection id is a number, got '" + rest.get(1) + "'");
        }
        if (!connections.close(id)) {
            return AdminResponse.error(404, "no open connection " + id);
        }
        return AdminResponse.ok(Map.of("closed", id), "closed connection conn=" + id);
    }

    private static Map<String, Object> connectionJson(ConnectionInfo c) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", c.id());
        m.put("peer", c.peer());
        m.put("export", c.export());
        m.put("tls_identity", c.identity());
        m.put("bytes_in", c.bytesIn());
        m.put("bytes_out", c.bytesOut());
        m.put("requests", c.requests());
        m.put("errors", c.errors());
        m.put("age_seconds", c.ageMillis() / 1000.0);
        return m;
    }

    private AdminResponse reload() {
        Reloader.Report report = reloader.reloadReporting();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("result", report.outcome().name().toLowerCase(java.util.Locale.ROOT));
        m.put("problems", report.problems());
        return AdminResponse.ok(m, "reload " + m.get("result"));
    }

    private static AdminResponse requireMethod(String method, String wanted,
                                               java.util.function.Supplier<AdminResponse> action) {
        return method.equals(wanted) ? action.get() : AdminResponse.error(405, "use " + wanted);
    }

    private static AdminResponse notFound() {
        return AdminResponse.error(404, "no such path");
    }
}
