//! Latitude/longitude to UTM, as the real server's `GPointConverter::convertLLtoTMClaude` does it
//! (USGS Bulletin 1532 series on the WGS 84 ellipsoid with its table's rounded eccentricity),
//! so the truncated northings and eastings match theirs to the metre.

/// WGS 84 equatorial radius and square of eccentricity, as the real server's table has them.
const A: f64 = 6_378_137.0;
const E2: f64 = 0.006_694_38;
const K0: f64 = 0.9996;

/// A point in UTM: northing and easting truncated to whole metres (10 000 000 added to the
/// northing in the southern hemisphere) and the zone, e.g. `"30U"` (`Z` as the letter outside
/// 80°S–84°N).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Utm {
    pub northing: i64,
    pub easting: i64,
    pub zone: String,
}

/// Converts a WGS 84 latitude and longitude (decimal degrees) to UTM, with the Norway (32V) and
/// Svalbard (31X, 33X, 35X, 37X) zone exceptions.
pub fn to_utm(lat: f64, long: f64) -> Utm {
    // `fmod`, as PHP does: -180 ≤ x < 180 for longitudes in -180..540.
    let long_temp = (long + 180.0) % 360.0 - 180.0;
    let lat_rad = lat.to_radians();
    let long_rad = long_temp.to_radians();
    let sin_lat = lat_rad.sin();
    let cos_lat = lat_rad.cos();
    let tan_lat = lat_rad.tan();
    let tan_lat_sq = tan_lat * tan_lat;
    let e2_sin2_lat = E2 * sin_lat * sin_lat;

    let zone_number = zone_number(lat, long_temp);
    let long_origin = (f64::from(zone_number) - 1.0) * 6.0 - 180.0 + 3.0;
    let zone = format!("{zone_number}{}", letter(lat));

    let ecc_prime_sq = E2 / (1.0 - E2);
    let n = A / (1.0 - e2_sin2_lat).sqrt();
    let t = tan_lat_sq;
    let c = ecc_prime_sq * cos_lat * cos_lat;
    let a = cos_lat * (long_rad - long_origin.to_radians());
    let a_sq = a * a;

    let m0 = 1.0 - E2 / 4.0 - 3.0 * E2 * E2 / 64.0 - 5.0 * E2 * E2 * E2 / 256.0;
    let m1 = 3.0 * E2 / 8.0 + 3.0 * E2 * E2 / 32.0 + 45.0 * E2 * E2 * E2 / 1024.0;
    let m2 = 15.0 * E2 * E2 / 256.0 + 45.0 * E2 * E2 * E2 / 1024.0;
    let m3 = 35.0 * E2 * E2 * E2 / 3072.0;
    let m = A
        * (m0 * lat_rad - m1 * (2.0 * lat_rad).sin() + m2 * (4.0 * lat_rad).sin()
            - m3 * (6.0 * lat_rad).sin());

    let e1 = 1.0 - t + c;
    let e2 = 5.0 - 18.0 * t + t * t + 72.0 * c - 58.0 * ecc_prime_sq;
    let easting = K0 * n * (a + e1 * a_sq * a / 6.0 + e2 * a_sq * a_sq * a / 120.0) + 500_000.0;

    let n0 = n * tan_lat;
    let n1 = a_sq / 2.0;
    let n2 = (5.0 - t + 9.0 * c + 4.0 * c * c) * a_sq * a_sq / 24.0;
    let n3 =
        (61.0 - 58.0 * t + t * t + 600.0 * c - 330.0 * ecc_prime_sq) * a_sq * a_sq * a_sq / 720.0;
    let mut northing = K0 * (m + n0 * (n1 + n2 + n3));
    if lat < 0.0 {
        northing += 10_000_000.0;
    }
    Utm {
        northing: truncate(northing),
        easting: truncate(easting),
        zone,
    }
}

/// `(int)` in PHP: toward zero, and 0 for NaN and infinities.
fn truncate(x: f64) -> i64 {
    if x.is_finite() { x as i64 } else { 0 }
}

fn zone_number(lat: f64, long: f64) -> i32 {
    if (56.0..64.0).contains(&lat) && (3.0..12.0).contains(&long) {
        return 32;
    }
    if (72.0..84.0).contains(&lat) {
        if (0.0..9.0).contains(&long) {
            return 31;
        } else if (9.0..21.0).contains(&long) {
            return 33;
        } else if (21.0..33.0).contains(&long) {
            return 35;
        } else if (33.0..42.0).contains(&long) {
            return 37;
        }
    }
    // Truncation toward zero, as PHP's `(int)`; a NaN longitude gives zone 1 like PHP's 0 + 1.
    let raw = (long + 180.0) / 6.0;
    (if raw.is_finite() { raw as i32 } else { 0 }).saturating_add(1)
}

/// The latitude band letter; `Z` flags a latitude outside the UTM limits.
fn letter(lat: f64) -> char {
    const BANDS: [(f64, char); 19] = [
        (72.0, 'X'),
        (64.0, 'W'),
        (56.0, 'V'),
        (48.0, 'U'),
        (40.0, 'T'),
        (32.0, 'S'),
        (24.0, 'R'),
        (16.0, 'Q'),
        (8.0, 'P'),
        (0.0, 'N'),
        (-8.0, 'M'),
        (-16.0, 'L'),
        (-24.0, 'K'),
        (-32.0, 'J'),
        (-40.0, 'H'),
        (-48.0, 'G'),
        (-56.0, 'F'),
        (-64.0, 'E'),
        (-72.0, 'D'),
    ];
    if lat > 84.0 {
        return 'Z';
    }
    for (floor, band) in BANDS {
        if lat >= floor {
            return band;
        }
    }
    if lat >= -80.0 { 'C' } else { 'Z' }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utm(n: i64, e: i64, zone: &str) -> Utm {
        Utm {
            northing: n,
            easting: e,
            zone: zone.into(),
        }
    }

    #[test]
    fn known_points() {
        // The real formula gives 5710163.76 for London: truncated, not rounded.
        assert_eq!(to_utm(51.5074, -0.1278), utm(5_710_163, 699_316, "30U"));
        assert_eq!(to_utm(-33.8688, 151.2093), utm(6_250_948, 334_368, "56H"));
        assert_eq!(to_utm(40.7128, -74.006), utm(4_507_350, 583_959, "18T"));
        assert_eq!(to_utm(51.498765, -0.174877), utm(5_709_076, 696_087, "30U"));
        assert_eq!(to_utm(-0.5, -0.5), utm(9_944_681, 778_265, "30M"));
    }

    #[test]
    fn norway_and_svalbard_exceptions() {
        assert_eq!(to_utm(60.39, 5.32), utm(6_700_510, 297_230, "32V"));
        assert_eq!(to_utm(78.22, 15.65), utm(8_683_004, 514_813, "33X"));
        assert_eq!(to_utm(78.0, 5.0).zone, "31X");
        assert_eq!(to_utm(78.0, 25.0).zone, "35X");
        assert_eq!(to_utm(78.0, 35.0).zone, "37X");
        // Outside the exception boxes the ordinary zones apply.
        assert_eq!(to_utm(55.9, 5.32).zone, "31U");
        assert_eq!(to_utm(64.0, 5.32).zone, "31W");
    }

    #[test]
    fn polar_latitudes_get_z() {
        assert_eq!(to_utm(84.0, 10.0).zone, "32X");
        assert_eq!(to_utm(84.5, 10.0).zone, "32Z");
        assert_eq!(to_utm(-80.0, 10.0).zone, "32C");
        assert_eq!(to_utm(-81.0, 10.0).zone, "32Z");
        assert_eq!(to_utm(90.0, 0.0).zone, "31Z");
    }

    #[test]
    fn odd_inputs_do_not_panic() {
        for (lat, long) in [
            (f64::NAN, 0.0),
            (0.0, f64::INFINITY),
            (1e308, -1e308),
            (90.0, 180.0),
            (-90.0, -180.0),
            (45.0, 720.0),
        ] {
            let _ = to_utm(lat, long);
        }
        assert_eq!(to_utm(45.0, 180.0).zone, "1T");
    }
}
