//! Mean, standard error and Student-t confidence intervals across replications.
//!
//! **Architecture invariant:** no I/O. Replications are folded in replication
//! order (Welford's algorithm), so the floating-point result is the same
//! whatever the number of threads that produced them.

use statrs::distribution::{ContinuousCDF, StudentsT};

/// Running mean and sum of squared deviations for a vector of cells.
#[derive(Debug, Clone)]
pub struct Welford {
    n: u64,
    mean: Vec<f64>,
    m2: Vec<f64>,
}

/// Summary of one cell across replications.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CellStats {
    pub mean: f64,
    /// Standard error of the mean (NaN with one replication).
    pub se: f64,
    pub ci_low: f64,
    pub ci_high: f64,
}

impl Welford {
    pub fn new(cells: usize) -> Welford {
        Welford {
            n: 0,
            mean: vec![0.0; cells],
            m2: vec![0.0; cells],
        }
    }

    pub fn n(&self) -> u64 {
        self.n
    }

    /// Adds one replication's values (same length as `cells`).
    pub fn add(&mut self, x: &[f64]) {
        assert_eq!(x.len(), self.mean.len(), "cell count mismatch");
        self.n += 1;
        let n = self.n as f64;
        for ((m, m2), &v) in self.mean.iter_mut().zip(&mut self.m2).zip(x) {
            let delta = v - *m;
            *m += delta / n;
            *m2 += delta * (v - *m);
        }
    }

    /// Mean, SE and 95 % CI of every cell.
    pub fn finish(&self) -> Vec<CellStats> {
        let t = t975(self.n);
        self.mean
            .iter()
            .zip(&self.m2)
            .map(|(&mean, &m2)| {
                if self.n < 2 {
                    return CellStats {
                        mean,
                        se: f64::NAN,
                        ci_low: f64::NAN,
                        ci_high: f64::NAN,
                    };
                }
                let var = (m2 / (self.n - 1) as f64).max(0.0);
                let se = (var / self.n as f64).sqrt();
                CellStats {
                    mean,
                    se,
                    ci_low: mean - t * se,
                    ci_high: mean + t * se,
                }
            })
            .collect()
    }
}

/// The 97.5 % quantile of Student's t with `n - 1` degrees of freedom.
pub fn t975(n: u64) -> f64 {
    if n < 2 {
        return f64::NAN;
    }
    StudentsT::new(0.0, 1.0, (n - 1) as f64)
        .map(|t| t.inverse_cdf(0.975))
        .unwrap_or(f64::NAN)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_two_pass_formulas() {
        let xs = [3.0, 5.0, 4.0, 8.0, 10.0];
        let mut w = Welford::new(1);
        for x in xs {
            w.add(&[x]);
        }
        let s = w.finish()[0];
        let mean = xs.iter().sum::<f64>() / 5.0;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / 4.0;
        assert!((s.mean - mean).abs() < 1e-12);
        assert!((s.se - (var / 5.0).sqrt()).abs() < 1e-12);
        // t(4) 97.5 % = 2.776445
        assert!((t975(5) - 2.776_445).abs() < 1e-5);
        assert!((s.ci_high - s.mean - 2.776_445 * s.se).abs() < 1e-4);
    }

    #[test]
    fn one_replication_has_no_interval() {
        let mut w = Welford::new(1);
        w.add(&[2.0]);
        let s = w.finish()[0];
        assert_eq!(s.mean, 2.0);
        assert!(s.se.is_nan() && s.ci_low.is_nan());
    }
}
