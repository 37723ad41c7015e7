//! A generator of customer snapshots for a medical-device distributor, in the format
//! `copilot import` reads (documented in `fixtures/customers/README.md`).
//!
//! It writes the small fixture in `fixtures/customers/` and the large benchmark set alike, so
//! both have the same shape: hospitals and clinics in Chinese cities with Chinese and English
//! names, the rep who owns each account, contacts, purchases spread over the last years at a
//! rhythm of each customer's own, and competitor contacts of the last year. The same seed gives
//! the same file.

use serde::Serialize;

/// The snapshot document.
#[derive(Serialize)]
pub struct Snapshot {
    pub version: u32,
    pub reps: Vec<Rep>,
    pub products: Vec<Product>,
    pub customers: Vec<Customer>,
}

#[derive(Serialize)]
pub struct Rep {
    pub id: String,
    pub name: String,
}

#[derive(Serialize)]
pub struct Product {
    pub id: &'static str,
    pub name_zh: &'static str,
    pub name_en: &'static str,
    pub registration_no: String,
}

#[derive(Serialize)]
pub struct Customer {
    pub id: String,
    pub name_zh: String,
    pub name_en: String,
    pub kind: &'static str,
    pub city: &'static str,
    pub rep: String,
    pub contacts: Vec<Contact>,
    pub purchases: Vec<Purchase>,
    pub competitor_contacts: Vec<CompetitorContact>,
}

#[derive(Serialize)]
pub struct Contact {
    pub name: String,
    pub role: &'static str,
    pub phone: String,
}

#[derive(Serialize)]
pub struct Purchase {
    pub date: String,
    pub product: &'static str,
    pub quantity: u32,
    pub amount: f64,
    pub currency: &'static str,
}

#[derive(Serialize)]
pub struct CompetitorContact {
    pub competitor: &'static str,
    pub date: String,
    pub channel: &'static str,
    pub note: &'static str,
}

/// How big a snapshot to make.
pub struct Shape {
    pub customers: usize,
    /// Purchase lines in all; spread evenly over the customers.
    pub purchases: usize,
    /// The last day of the history, as days since 1970-01-01.
    pub end_day: i64,
    pub years: u32,
    pub seed: u64,
}

/// (id, Chinese name, English name, unit price in CNY, typical quantity)
const PRODUCTS: &[(&str, &str, &str, f64, u32)] = &[
    (
        "US-M7",
        "便携式彩色超声诊断仪",
        "Portable colour ultrasound system",
        186_000.0,
        1,
    ),
    (
        "PM-12",
        "多参数病人监护仪",
        "Multi-parameter patient monitor",
        28_500.0,
        4,
    ),
    ("IP-3", "输液泵", "Volumetric infusion pump", 9_800.0, 6),
    ("SP-5", "注射泵", "Syringe pump", 7_200.0, 6),
    ("DF-2", "除颤监护仪", "Defibrillator monitor", 96_000.0, 1),
    (
        "ECG-9",
        "十二导心电图机",
        "12-lead electrocardiograph",
        32_000.0,
        2,
    ),
    ("VT-60", "呼吸机", "ICU ventilator", 265_000.0, 1),
    ("SPO2-S", "血氧探头(成人)", "SpO2 sensor, adult", 380.0, 40),
    (
        "ECG-E",
        "心电电极片(50片/包)",
        "ECG electrodes, pack of 50",
        45.0,
        200,
    ),
    (
        "IV-SET",
        "输液器(精密过滤)",
        "Precision-filter infusion set",
        12.5,
        2_000,
    ),
    (
        "DN-CH",
        "牙科综合治疗台",
        "Dental treatment unit",
        128_000.0,
        1,
    ),
    (
        "DN-IMP",
        "种植体(钛合金)",
        "Titanium dental implant",
        2_600.0,
        20,
    ),
];

/// (Chinese, English, currency)
const CITIES: &[(&str, &str, &str)] = &[
    ("上海", "Shanghai", "CNY"),
    ("北京", "Beijing", "CNY"),
    ("杭州", "Hangzhou", "CNY"),
    ("南京", "Nanjing", "CNY"),
    ("苏州", "Suzhou", "CNY"),
    ("成都", "Chengdu", "CNY"),
    ("武汉", "Wuhan", "CNY"),
    ("广州", "Guangzhou", "CNY"),
    ("深圳", "Shenzhen", "CNY"),
    ("西安", "Xi'an", "CNY"),
    ("长沙", "Changsha", "CNY"),
    ("青岛", "Qingdao", "CNY"),
    ("厦门", "Xiamen", "CNY"),
    ("昆明", "Kunming", "CNY"),
    ("珠海", "Zhuhai", "CNY"),
];

/// (Chinese pattern, English pattern); `{c}` is the city, `{n}` the number.
const HOSPITALS: &[(&str, &str)] = &[
    ("{c}市第{n}人民医院", "{c} No. {n} People's Hospital"),
    (
        "{c}市中医医院第{n}院区",
        "{c} Hospital of Traditional Chinese Medicine, Campus {n}",
    ),
    (
        "{c}市妇幼保健院第{n}分院",
        "{c} Maternal and Child Health Hospital, Branch {n}",
    ),
    (
        "{c}医科大学第{n}附属医院",
        "The No. {n} Affiliated Hospital of {c} Medical University",
    ),
];

const CLINICS: &[(&str, &str, &[&str])] = &[
    (
        "{c}康宁口腔诊所{n}号店",
        "{c} Kangning Dental Clinic No. {n}",
        &["DN-CH", "DN-IMP"],
    ),
    (
        "{c}仁和社区卫生服务中心第{n}站",
        "{c} Renhe Community Health Station {n}",
        &["ECG-9", "ECG-E", "IV-SET", "SPO2-S"],
    ),
    (
        "{c}安心门诊部{n}部",
        "{c} Anxin Outpatient Clinic {n}",
        &["PM-12", "SPO2-S", "ECG-E"],
    ),
    (
        "{c}美年体检中心{n}号",
        "{c} Meinian Check-up Centre {n}",
        &["US-M7", "ECG-9", "ECG-E"],
    ),
];

const HOSPITAL_PRODUCTS: &[&str] = &[
    "US-M7", "PM-12", "IP-3", "SP-5", "DF-2", "VT-60", "SPO2-S", "ECG-E", "IV-SET",
];

const REPS: &[(&str, &str)] = &[
    ("rep-li", "李娜"),
    ("rep-wang", "王磊"),
    ("rep-chen", "陈静"),
    ("rep-zhao", "赵强"),
    ("rep-liu", "刘洋"),
    ("rep-wong", "Kelvin Wong"),
];

const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "周", "吴", "徐", "孙",
];
const ROLES: &[&str] = &[
    "设备科主任",
    "采购科科长",
    "护士长",
    "院长",
    "临床工程师",
    "药剂科主任",
];
const TITLES: &[&str] = &["主任", "科长", "医生", "老师", "经理"];

const COMPETITORS: &[&str] = &[
    "Northbridge Medical",
    "康泰医疗",
    "Meridian Diagnostics",
    "华瑞医械",
];
const CHANNELS: &[&str] = &["visit", "call", "tender", "conference"];
const COMPETITOR_NOTES: &[&str] = &[
    "quoted about 15% below our monitor price",
    "invited to the ultrasound tender",
    "offered a free one-year service extension",
    "demonstrated a ventilator to the ICU",
    "竞品送了两台试用机",
    "对方承诺48小时到货",
];

/// splitmix64: small, fast and reproducible, which is all a generator needs.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    /// A float in `[lo, hi)`.
    pub fn between(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64 * (hi - lo)
    }

    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize]
    }
}

/// `YYYY-MM-DD` of a day count since 1970-01-01 (civil calendar arithmetic).
pub fn date_of(days: i64) -> String {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

/// 2026-11-30 as days since 1970-01-01.
pub const END_2026_11_30: i64 = 20_787;

/// Makes a snapshot of the given shape.
pub fn generate(shape: &Shape) -> Snapshot {
    let mut rng = Rng::new(shape.seed);
    let mut counters = std::collections::HashMap::new();
    let per_customer = shape.purchases / shape.customers.max(1);
    let mut extra = shape.purchases % shape.customers.max(1);
    let customers = (0..shape.customers)
        .map(|i| {
            let lines = per_customer + usize::from(extra > 0);
            extra = extra.saturating_sub(1);
            customer(i, lines, shape, &mut rng, &mut counters)
        })
        .collect();
    Snapshot {
        version: 1,
        reps: REPS
            .iter()
            .map(|(id, name)| Rep {
                id: id.to_string(),
                name: name.to_string(),
            })
            .collect(),
        products: PRODUCTS
            .iter()
            .enumerate()
            .map(|(i, p)| Product {
                id: p.0,
                name_zh: p.1,
                name_en: p.2,
                registration_no: format!("国械注准{}{:07}", 2019 + i % 6, 3_060_100 + i * 37),
            })
            .collect(),
        customers,
    }
}

fn customer(
    i: usize,
    lines: usize,
    shape: &Shape,
    rng: &mut Rng,
    counters: &mut std::collections::HashMap<(usize, usize, bool), usize>,
) -> Customer {
    let city_index = rng.below(CITIES.len() as u64) as usize;
    let (city_zh, city_en, currency) = CITIES[city_index];
    let hospital = rng.below(10) < 4;
    let pattern = rng.below(4) as usize;
    let n = counters.entry((city_index, pattern, hospital)).or_insert(0);
    *n += 1;
    let (zh, en, products): (&str, &str, &[&str]) = if hospital {
        (
            HOSPITALS[pattern].0,
            HOSPITALS[pattern].1,
            HOSPITAL_PRODUCTS,
        )
    } else {
        CLINICS[pattern]
    };
    let fill = |p: &str, c: &str| p.replace("{c}", c).replace("{n}", &n.to_string());
    Customer {
        id: format!("C-{:05}", i + 1),
        name_zh: fill(zh, city_zh),
        name_en: fill(en, city_en),
        kind: if hospital { "hospital" } else { "clinic" },
        city: city_zh,
        rep: rng.pick(REPS).0.to_string(),
        contacts: contacts(rng),
        purchases: purchases(lines, products, currency, shape, rng),
        competitor_contacts: competitor_contacts(shape, rng),
    }
}

fn contacts(rng: &mut Rng) -> Vec<Contact> {
    (0..1 + rng.below(3))
        .map(|_| Contact {
            name: format!("{}{}", rng.pick(SURNAMES), rng.pick(TITLES)),
            role: rng.pick(ROLES),
            phone: format!(
                "+86 13{} {:04} {:04}",
                rng.below(10),
                rng.below(10_000),
                rng.below(10_000)
            ),
        })
        .collect()
}

/// Orders at a rhythm of the customer's own, one to three lines each, with amounts that drift
/// up or down over time so that cards show every trend.
fn purchases(
    lines: usize,
    products: &[&'static str],
    currency: &'static str,
    shape: &Shape,
    rng: &mut Rng,
) -> Vec<Purchase> {
    let mut sizes = Vec::new();
    while sizes.iter().sum::<usize>() < lines {
        let left = lines - sizes.iter().sum::<usize>();
        sizes.push((1 + rng.below(3) as usize).min(left));
    }
    let gaps: Vec<f64> = sizes.iter().map(|_| rng.between(0.7, 1.3)).collect();
    let span = (i64::from(shape.years) * 365) as f64;
    let first = rng.between(0.0, span / (sizes.len() as f64 + 1.0));
    let scale = (span - first) / gaps.iter().sum::<f64>().max(1.0);
    let drift = rng.between(-0.04, 0.05);
    let mut out = Vec::with_capacity(lines);
    let mut day = shape.end_day as f64 - span + first;
    for (order, (size, gap)) in sizes.iter().zip(&gaps).enumerate() {
        let date = date_of((day as i64).min(shape.end_day));
        let scale_of_order = 1.0 + drift * order as f64;
        for _ in 0..*size {
            out.push(line(&date, products, currency, scale_of_order, rng));
        }
        day += gap * scale;
    }
    out
}

fn line(
    date: &str,
    products: &[&'static str],
    currency: &'static str,
    scale: f64,
    rng: &mut Rng,
) -> Purchase {
    let id = rng.pick(products);
    let (_, _, _, price, typical) = PRODUCTS
        .iter()
        .find(|p| p.0 == id)
        .copied()
        .unwrap_or(PRODUCTS[0]);
    let quantity =
        ((f64::from(typical) * scale.max(0.2) * rng.between(0.6, 1.4)).round() as u32).max(1);
    let amount = (f64::from(quantity) * price * rng.between(0.85, 1.0) * 100.0).round() / 100.0;
    Purchase {
        date: date.to_string(),
        product: id,
        quantity,
        amount,
        currency,
    }
}

fn competitor_contacts(shape: &Shape, rng: &mut Rng) -> Vec<CompetitorContact> {
    let count = match rng.below(10) {
        0..=4 => 0,
        5..=7 => 1,
        _ => 2 + rng.below(3),
    };
    let mut out: Vec<CompetitorContact> = (0..count)
        .map(|_| CompetitorContact {
            competitor: rng.pick(COMPETITORS),
            date: date_of(shape.end_day - rng.below(365) as i64),
            channel: rng.pick(CHANNELS),
            note: rng.pick(COMPETITOR_NOTES),
        })
        .collect();
    out.sort_by(|a, b| a.date.cmp(&b.date));
    out
}
