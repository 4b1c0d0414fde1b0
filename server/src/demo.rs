//! Demo data for local runs: the Keycloak demo users and realistic Korean
//! accounts with contacts, deals and the won deals' contracts. Loaded once, when there are no accounts yet.

use app::domain::BusinessNumber;
use sqlx::PgPool;
use uuid::Uuid;

/// Username, display name, email, realm roles: the same people as keycloak/salesops-realm.json.
pub const DEMO_USERS: &[(&str, &str, &str, &[&str])] = &[
    ("kim.minjun", "김민준", "kim.minjun@salesops.example", &["sales-rep"]),
    ("lee.seoyeon", "이서연", "lee.seoyeon@salesops.example", &["sales-rep"]),
    ("park.jihoon", "박지훈", "park.jihoon@salesops.example", &["sales-manager"]),
    ("choi.yuna", "최유나", "choi.yuna@salesops.example", &["sales-viewer"]),
    ("jung.admin", "정관리", "jung.admin@salesops.example", &["salesops-admin"]),
    ("han.guest", "한손님", "han.guest@salesops.example", &[]),
];

const COMPANIES: &[(&str, &str, &str)] = &[
    ("구름클라우드", "it", "서울특별시 강남구 테헤란로 152"),
    ("한빛제조", "manufacturing", "경기도 화성시 동탄산단로 21"),
    ("서울핀테크", "finance", "서울특별시 영등포구 여의대로 24"),
    ("바다물류", "logistics", "부산광역시 강서구 녹산산단로 88"),
    ("새봄유통", "retail", "서울특별시 송파구 올림픽로 300"),
    ("누리소프트", "it", "경기도 성남시 분당구 판교역로 235"),
    ("미래교육재단", "education", "대전광역시 유성구 대학로 99"),
    ("푸른병원", "healthcare", "서울특별시 종로구 대학로 101"),
    ("별빛게임즈", "media", "경기도 성남시 분당구 대왕판교로 644"),
    ("한결보험", "finance", "서울특별시 중구 세종대로 136"),
    ("다온전자", "manufacturing", "경상북도 구미시 1공단로 7"),
    ("초록에너지", "other", "전라남도 나주시 빛가람로 661"),
    ("가온데이터", "it", "서울특별시 마포구 월드컵북로 396"),
    ("행복마트", "retail", "인천광역시 연수구 컨벤시아대로 165"),
    ("대한공공정보원", "public", "세종특별자치시 한누리대로 402"),
    ("스마트팩토리코리아", "manufacturing", "울산광역시 남구 산업로 300"),
];

const PEOPLE: &[(&str, &str, &str)] = &[
    ("김지현", "팀장", "IT운영팀"),
    ("이준호", "과장", "구매팀"),
    ("박서준", "차장", "인프라팀"),
    ("정하은", "대리", "재무팀"),
    ("최도윤", "부장", "정보전략실"),
];

pub async fn seed(pool: &PgPool) -> Result<(), sqlx::Error> {
    let mut tx = pool.begin().await?;
    for (username, name, email, roles) in DEMO_USERS {
        sqlx::query(
            "insert into users (username, display_name, email, roles) values ($1, $2, $3, $4)
             on conflict (username) do nothing",
        )
        .bind(username)
        .bind(name)
        .bind(email)
        .bind(roles.iter().map(|r| r.to_string()).collect::<Vec<_>>())
        .execute(&mut *tx)
        .await?;
    }
    let (count,): (i64,) = sqlx::query_as("select count(*) from accounts").fetch_one(&mut *tx).await?;
    if count > 0 {
        return tx.commit().await;
    }
    let owners: Vec<(Uuid,)> = sqlx::query_as(
        "select id from users where username in ('kim.minjun', 'lee.seoyeon', 'park.jihoon') order by username",
    )
    .fetch_all(&mut *tx)
    .await?;
    for (i, (name, industry, address)) in COMPANIES.iter().enumerate() {
        let owner = owners[i % owners.len()].0;
        let bn = BusinessNumber::from_prefix(120_810_000 + (i as u32) * 7919);
        let size = ["small", "medium", "large", "enterprise"][i % 4];
        let (account_id,): (Uuid,) = sqlx::query_as(
            "insert into accounts (name, business_number, industry, company_size, address, main_phone, website,
                                   owner_id, created_by, updated_by)
             values ($1, $2, $3, $4, $5, $6, $7, $8, $8, $8) returning id",
        )
        .bind(format!("(주){name}"))
        .bind(bn.digits())
        .bind(industry)
        .bind(size)
        .bind(address)
        .bind(format!("02-{:04}-{:04}", 3000 + i * 17, 1000 + i * 31))
        .bind(format!("https://www.example-{i}.co.kr"))
        .bind(owner)
        .fetch_one(&mut *tx)
        .await?;
        seed_deals(&mut tx, i, account_id, name, owner).await?;
        for (j, (person, title, dept)) in PEOPLE.iter().enumerate().take(1 + i % 3) {
            sqlx::query(
                "insert into contacts (account_id, name, title, department, email, phone, created_by, updated_by)
                 values ($1, $2, $3, $4, $5, $6, $7, $7)",
            )
            .bind(account_id)
            .bind(person)
            .bind(title)
            .bind(dept)
            .bind(format!("contact{j}@example-{i}.co.kr"))
            .bind(format!("010-{:04}-{:04}", 2000 + i * 13 + j, 5000 + j * 7))
            .bind(owner)
            .execute(&mut *tx)
            .await?;
        }
    }
    tx.commit().await
}

/// Two or three deals per account, spread over the stages, in KRW and sometimes USD.
async fn seed_deals(
    tx: &mut sqlx::PgConnection,
    i: usize,
    account_id: Uuid,
    account: &str,
    owner: Uuid,
) -> Result<(), sqlx::Error> {
    const DEALS: &[(&str, &str, i64, &str)] = &[
        ("Azure 마이그레이션", "lead", 120_000_000, "KRW"),
        ("MSP 운영 계약", "qualified", 48_000_000, "KRW"),
        ("보안 관제 서비스", "proposal", 36_000_000, "KRW"),
        ("AKS 구축", "negotiation", 85_000_000, "KRW"),
        ("백업/DR 구성", "won", 22_000_000, "KRW"),
        ("Microsoft 365 라이선스", "lost", 15_000, "USD"),
        ("데이터 플랫폼 PoC", "proposal", 40_000, "USD"),
    ];
    let today = chrono::Utc::now().date_naive();
    for k in 0..(2 + i % 2) {
        let (title, stage, amount, currency) = DEALS[(i * 3 + k) % DEALS.len()];
        let close = today + chrono::Days::new(((i * 11 + k * 17) % 120) as u64);
        let (id,): (Uuid,) = sqlx::query_as(
            "insert into deals (name, account_id, stage_id, amount, currency, probability, expected_close_date,
                                owner_id, source, lost_reason, created_by, updated_by)
             select $1, $2, s.id, $3, $4, s.default_probability, $5, $6, $7,
                    case when s.is_lost then '가격 경쟁에서 밀림' end, $6, $6
             from stages s where s.id = $8 returning id",
        )
        .bind(format!("{account} {title}"))
        .bind(account_id)
        .bind(rust_decimal::Decimal::from(amount))
        .bind(currency)
        .bind(close)
        .bind(owner)
        .bind(["파트너 소개", "웹 문의", "기존 고객", "세미나"][k % 4])
        .bind(stage)
        .fetch_one(&mut *tx)
        .await?;
        // A past: created weeks ago, then moved stage by stage up to where it
        // is now (a lost deal after its first two stages), so the dashboard's
        // time in stage and days to close have something to show.
        let created_days_ago = 20 + ((i * 7 + k * 5) % 70) as i32;
        let entered_days_ago = ((i + k * 3) % 12) as i32;
        sqlx::query(
            "update deals set created_at = now() - make_interval(days => $2),
                              stage_changed_at = now() - make_interval(days => $3)
             where id = $1",
        )
        .bind(id)
        .bind(created_days_ago)
        .bind(entered_days_ago)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "insert into deal_stage_history (deal_id, from_stage, to_stage, changed_by, changed_at)
             select $1, lag(s.id) over w, s.id, $3,
                    now() - make_interval(days => $4)
                          + make_interval(days => $4 - $5) * ((row_number() over w) - 1)
                            / greatest(1, (count(*) over ()) - 1)
             from stages s join stages cur on cur.id = $2
             where s.id = cur.id
                or (not s.is_won and not s.is_lost
                    and s.position <= case when cur.is_lost then 2 when cur.is_won then 4 else cur.position end)
             window w as (order by s.position)
             order by s.position",
        )
        .bind(id)
        .bind(stage)
        .bind(owner)
        .bind(created_days_ago)
        .bind(entered_days_ago)
        .execute(&mut *tx)
        .await?;
        if stage == "won" {
            // A won deal's contract, a year long, ending within the next four
            // months: the renewal queue has something in each window.
            let end = today + chrono::Days::new(((i * 13 + k * 7) % 120) as u64);
            let start = end - chrono::Days::new(364);
            sqlx::query(
                "insert into contracts (account_id, deal_id, title, contract_number, state, start_date, end_date,
                                        amount, currency, billing_period, auto_renew, notice_days, owner_id,
                                        created_by, updated_by)
                 values ($1, $2, $3, $4, 'signed', $5, $6, $7, $8, 'annual', $9, 30, $10, $10, $10)",
            )
            .bind(account_id)
            .bind(id)
            .bind(format!("{account} {title} 연간 계약"))
            .bind(format!("MSP-DEMO-{i:03}-{k}"))
            .bind(start)
            .bind(end)
            .bind(rust_decimal::Decimal::from(amount))
            .bind(currency)
            .bind(i.is_multiple_of(2))
            .bind(owner)
            .execute(&mut *tx)
            .await?;
        }
    }
    Ok(())
}
