//! The people of the company and which accounts each has; the HR roster.
use crate::{Ctx, Out, Size, fmt_date};
use rand::Rng;
use rand::seq::SliceRandom;
use std::collections::{BTreeMap, HashSet};
use std::io;
use time::Date;

const FIRST: [&str; 100] = [
    "Ana",
    "Ben",
    "Chloe",
    "Daniel",
    "Elena",
    "Farid",
    "Grace",
    "Hiro",
    "Ines",
    "Jonas",
    "Kemi",
    "Liam",
    "Maya",
    "Nikhil",
    "Olivia",
    "Pablo",
    "Quinn",
    "Rosa",
    "Samir",
    "Tara",
    "Umar",
    "Vera",
    "Wei",
    "Ximena",
    "Yusuf",
    "Zoe",
    "Aisha",
    "Bruno",
    "Carmen",
    "Dmitri",
    "Esther",
    "Felix",
    "Gabriela",
    "Hassan",
    "Ivy",
    "Jamal",
    "Keiko",
    "Lucas",
    "Mei",
    "Noah",
    "Oskar",
    "Priya",
    "Rafael",
    "Sofia",
    "Tomas",
    "Uma",
    "Victor",
    "Wanda",
    "Xavier",
    "Yara",
    "Zainab",
    "Amir",
    "Beatriz",
    "Chen",
    "Diego",
    "Emma",
    "Fatima",
    "George",
    "Hana",
    "Isaac",
    "Julia",
    "Kofi",
    "Leila",
    "Marco",
    "Nadia",
    "Omar",
    "Paula",
    "Rahul",
    "Sara",
    "Theo",
    "Ulla",
    "Valentina",
    "Will",
    "Yasmin",
    "Zara",
    "Adrian",
    "Bianca",
    "Caleb",
    "Dana",
    "Elif",
    "Franco",
    "Gita",
    "Henrik",
    "Irene",
    "Jorge",
    "Kira",
    "Luis",
    "Mina",
    "Nora",
    "Ola",
    "Pedro",
    "Rania",
    "Stefan",
    "Tanvi",
    "Ugo",
    "Vikram",
    "Wendy",
    "Yosef",
    "Zeynep",
    "Arjun",
];

const LAST: [&str; 100] = [
    "Lopez",
    "Okafor",
    "Martin",
    "Kim",
    "Novak",
    "Haddad",
    "Tanaka",
    "Silva",
    "Moreau",
    "Fischer",
    "Adeyemi",
    "Murphy",
    "Patel",
    "Rossi",
    "Nguyen",
    "Garcia",
    "Cohen",
    "Larsen",
    "Ahmed",
    "Kowalski",
    "Sato",
    "Dubois",
    "Ivanova",
    "Mensah",
    "Bauer",
    "Costa",
    "Jensen",
    "Khan",
    "Romero",
    "Schmidt",
    "Yilmaz",
    "Andersson",
    "Baptiste",
    "Chowdhury",
    "Duarte",
    "Eriksen",
    "Ferreira",
    "Gupta",
    "Horvath",
    "Ibrahim",
    "Jovanovic",
    "Kaur",
    "Lindqvist",
    "Mwangi",
    "Nakamura",
    "Oliveira",
    "Petrov",
    "Quispe",
    "Reyes",
    "Santos",
    "Torres",
    "Ueda",
    "Vasquez",
    "Wagner",
    "Xu",
    "Yamamoto",
    "Zhang",
    "Alvarez",
    "Brennan",
    "Castillo",
    "Delgado",
    "Evans",
    "Fontaine",
    "Gallagher",
    "Hoffman",
    "Iyer",
    "Jimenez",
    "Keller",
    "Lambert",
    "Mendez",
    "Nilsson",
    "Osei",
    "Park",
    "Quinlan",
    "Richter",
    "Suzuki",
    "Tran",
    "Umarov",
    "Vogel",
    "Walsh",
    "Yadav",
    "Zimmer",
    "Abbasi",
    "Becker",
    "Chavez",
    "Das",
    "Engel",
    "Flores",
    "Grant",
    "Hughes",
    "Ito",
    "Jung",
    "Kruger",
    "Li",
    "Mora",
    "Nowak",
    "Ortiz",
    "Pham",
    "Rahman",
    "Sharma",
];

/// (name, weight, IC titles, manager title, head title)
type Dept = (
    &'static str,
    u32,
    &'static [&'static str],
    &'static str,
    &'static str,
);

const DEPTS: [Dept; 11] = [
    (
        "Engineering",
        40,
        &[
            "Software Engineer",
            "Senior Software Engineer",
            "Staff Engineer",
            "Site Reliability Engineer",
            "Data Engineer",
            "QA Engineer",
        ],
        "Engineering Manager",
        "VP of Engineering",
    ),
    (
        "Product",
        6,
        &["Product Manager", "Senior Product Manager"],
        "Group Product Manager",
        "Head of Product",
    ),
    (
        "Design",
        4,
        &["Product Designer", "UX Researcher"],
        "Design Manager",
        "Head of Design",
    ),
    (
        "Sales",
        13,
        &["Account Executive", "Sales Development Representative"],
        "Sales Manager",
        "VP of Sales",
    ),
    (
        "Customer Success",
        10,
        &["Customer Success Manager", "Support Specialist"],
        "Support Manager",
        "Head of Customer Success",
    ),
    (
        "Clinical Operations",
        6,
        &["Clinical Operations Specialist", "Nurse Advisor"],
        "Clinical Operations Manager",
        "Chief Medical Officer",
    ),
    (
        "Marketing",
        6,
        &["Marketing Manager", "Content Strategist"],
        "Marketing Lead",
        "VP of Marketing",
    ),
    (
        "Finance",
        4,
        &["Financial Analyst", "Accountant"],
        "Controller",
        "CFO",
    ),
    (
        "People",
        4,
        &["People Partner", "Recruiter"],
        "People Operations Manager",
        "Head of People",
    ),
    (
        "Security",
        4,
        &["Security Engineer", "GRC Analyst"],
        "Security Manager",
        "CISO",
    ),
    (
        "IT",
        3,
        &["IT Administrator", "IT Support Engineer"],
        "IT Manager",
        "Head of IT",
    ),
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Active,
    OnLeave,
    Terminated,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Active => "active",
            Status::OnLeave => "on_leave",
            Status::Terminated => "terminated",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rank {
    Ceo,
    Head,
    Manager,
    Ic,
}

pub struct Person {
    pub first: &'static str,
    pub last: &'static str,
    pub email: String,
    /// The email's local part (the AWS user name).
    pub local: String,
    /// The GitHub login.
    pub login: String,
    pub employee_id: String,
    pub dept: &'static str,
    pub title: String,
    pub rank: Rank,
    pub manager: Option<usize>,
    pub start: Date,
    pub end: Option<Date>,
    pub status: Status,
    pub employment_type: &'static str,
    pub okta_id: String,
    pub google_id: String,
    pub github_id: u64,
    /// Has a GitHub account in the org (member now, unless a leaver who was removed).
    pub github: bool,
    pub github_admin: bool,
    pub github_2fa: bool,
    pub aws: bool,
    pub aws_console: bool,
    pub aws_mfa: bool,
}

impl Person {
    pub fn is_leaver(&self) -> bool {
        self.status == Status::Terminated
    }
}

pub struct World {
    pub people: Vec<Person>,
    pub planted_leaver: usize,
    pub planted_admin: usize,
    pub planted_console: usize,
}

fn priority(dept: &str) -> u8 {
    match dept {
        "Engineering" | "Security" | "IT" => 0,
        "Product" | "Design" => 1,
        _ => 2,
    }
}

impl World {
    pub fn generate(ctx: &Ctx, size: &Size) -> World {
        let n = size.people.max(12);
        let mut rng = ctx.rng(1, 0);
        // Start dates: the founder six years ago, a fifth hired over the past year, the rest
        // spread over the years between.
        let mut starts: Vec<i64> = (0..n)
            .map(|i| {
                if i == 0 {
                    6 * 365
                } else if rng.gen_bool(0.2) {
                    rng.gen_range(5..365)
                } else {
                    rng.gen_range(365..6 * 365 - 30)
                }
            })
            .collect();
        starts.sort_unstable_by(|a, b| b.cmp(a));
        let starts: Vec<Date> = starts
            .into_iter()
            .map(|d| {
                // Start on a Monday-ish workday: shift weekends to Monday.
                let date = ctx.days_ago(d);
                match date.weekday() {
                    time::Weekday::Saturday => date + time::Duration::days(2),
                    time::Weekday::Sunday => date + time::Duration::days(1),
                    _ => date,
                }
            })
            .collect();

        let total_w: u32 = DEPTS.iter().map(|d| d.1).sum();
        let mut dept_of: Vec<usize> = Vec::with_capacity(n);
        for i in 0..n {
            // The founders: CEO, then the first engineer.
            let d = if i <= 1 {
                0
            } else {
                let mut x = rng.gen_range(0..total_w);
                let mut k = 0;
                while x >= DEPTS[k].1 {
                    x -= DEPTS[k].1;
                    k += 1;
                }
                k
            };
            dept_of.push(d);
        }

        // Names, emails, logins: unique.
        let mut emails = HashSet::new();
        let mut logins = HashSet::new();
        let mut people = Vec::with_capacity(n);
        for i in 0..n {
            let first = FIRST[rng.gen_range(0..FIRST.len())];
            let last = LAST[rng.gen_range(0..LAST.len())];
            let base = format!("{}.{}", first.to_lowercase(), last.to_lowercase());
            let mut local = base.clone();
            let mut k = 2;
            while !emails.insert(local.clone()) {
                local = format!("{base}{k}");
                k += 1;
            }
            let (f, l) = (first.to_lowercase(), last.to_lowercase());
            let style = rng.gen_range(0..10);
            let base_login = match style {
                0..=4 => format!("{f}-{l}"),
                5..=6 => format!("{}{l}", &f[..1]),
                7 => format!("{f}{l}"),
                8 => format!("{f}-{}", &l[..1]),
                _ => format!("{l}-{f}"),
            };
            let mut login = base_login.clone();
            let mut k = 2;
            while !logins.insert(login.clone()) {
                login = format!("{base_login}{k}");
                k += 1;
            }
            people.push(Person {
                first,
                last,
                email: format!("{local}@{}", ctx.company.domain),
                local,
                login,
                employee_id: format!("LH{:05}", 1001 + i),
                dept: DEPTS[dept_of[i]].0,
                title: String::new(),
                rank: Rank::Ic,
                manager: None,
                start: starts[i],
                end: None,
                status: Status::Active,
                employment_type: "full_time",
                okta_id: format!("00u{}", crate::alnum(&mut rng, 17)),
                google_id: format!(
                    "1{:010}{:010}",
                    rng.gen_range(0u64..10_000_000_000),
                    rng.gen_range(0u64..10_000_000_000)
                ),
                github_id: 1_000_000 + rng.gen_range(0u64..150_000_000),
                github: false,
                github_admin: false,
                github_2fa: true,
                aws: false,
                aws_console: false,
                aws_mfa: true,
            });
        }

        // Hierarchy: the CEO; in each department its earliest hire is the head, the next
        // earliest (one in eight) are managers, everyone else reports to one of them.
        people[0].rank = Rank::Ceo;
        people[0].dept = "Executive";
        people[0].title = "Chief Executive Officer".into();
        let mut by_dept: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
        for (i, d) in dept_of.iter().enumerate().skip(1) {
            by_dept.entry(*d).or_default().push(i);
        }
        for (d, members) in &by_dept {
            let (_, _, ics, mgr_title, head_title) = DEPTS[*d];
            let head = members[0];
            people[head].rank = Rank::Head;
            people[head].title = head_title.into();
            people[head].manager = Some(0);
            let n_mgr = if members.len() >= 6 {
                members.len().div_ceil(8) - 1
            } else {
                0
            };
            let managers: Vec<usize> = members[1..1 + n_mgr].to_vec();
            for &m in &managers {
                people[m].rank = Rank::Manager;
                people[m].title = mgr_title.into();
                people[m].manager = Some(head);
            }
            for &p in &members[1 + n_mgr..] {
                people[p].title = ics[rng.gen_range(0..ics.len())].into();
                people[p].manager = Some(if managers.is_empty() {
                    head
                } else {
                    managers[rng.gen_range(0..managers.len())]
                });
            }
        }

        // Leavers (~12%), people on leave, contractors and the odd intern.
        let today = ctx.today;
        let ics: Vec<usize> = (0..n)
            .filter(|&i| people[i].rank == Rank::Ic && (today - people[i].start).whole_days() > 60)
            .collect();
        let mut pool = ics.clone();
        pool.shuffle(&mut rng);
        let n_leavers = ((n as f64 * 0.12).round() as usize).clamp(2, pool.len());
        for &p in &pool[..n_leavers] {
            let tenure = (today - people[p].start).whole_days();
            let ago = rng.gen_range(2..=(tenure - 30).min(364));
            people[p].end = Some(ctx.days_ago(ago));
            people[p].status = Status::Terminated;
        }
        let rest = &pool[n_leavers..];
        let n_leave = ((n as f64 * 0.015).round() as usize).clamp(1, rest.len().max(1));
        for &p in rest.iter().take(n_leave) {
            people[p].status = Status::OnLeave;
        }
        let rest = &rest[n_leave.min(rest.len())..];
        let n_contract = ((n as f64 * 0.03).round() as usize).clamp(2, rest.len());
        for &p in rest.iter().take(n_contract) {
            people[p].employment_type = "contractor";
            if people[p].dept == "Engineering" {
                people[p].title = "Contract Software Engineer".into();
            }
        }
        let rest = &rest[n_contract.min(rest.len())..];
        for &p in rest.iter().take(n / 60) {
            people[p].employment_type = if rng.gen_bool(0.5) {
                "part_time"
            } else {
                "intern"
            };
        }
        // Contractors who left: some leavers were contractors too.
        for &p in pool[..n_leavers].iter().take(n_leavers / 6) {
            people[p].employment_type = "contractor";
        }

        // Accounts: everyone has Okta and Google; GitHub and AWS by priority of department.
        let extra = (size.accounts_per_person - 2.0).max(0.0);
        let gh_frac = (extra * 0.6).min(1.0);
        let aws_frac = (extra - gh_frac).clamp(0.0, 1.0);
        let mut order: Vec<usize> = (0..n).collect();
        order.shuffle(&mut rng);
        order.sort_by_key(|&i| priority(people[i].dept));
        let n_gh = (gh_frac * n as f64).round() as usize;
        for &i in order.iter().take(n_gh.max(6).min(n)) {
            people[i].github = true;
        }
        let mut order_aws = order.clone();
        order_aws.sort_by_key(|&i| (priority(people[i].dept), people[i].rank != Rank::Head));
        let n_aws = (aws_frac * n as f64).round() as usize;
        for &i in order_aws.iter().take(n_aws.max(4).min(n)) {
            people[i].aws = true;
            people[i].aws_console = rng.gen_bool(0.7) || priority(people[i].dept) > 0;
            people[i].aws_mfa = !people[i].aws_console || rng.gen_bool(0.985);
        }

        // The planted leaver: a leaver with a GitHub account (one is made if none).
        let planted_leaver = match order
            .iter()
            .copied()
            .find(|&i| people[i].is_leaver() && people[i].github)
        {
            Some(i) => i,
            None => {
                let i = order
                    .iter()
                    .copied()
                    .find(|&i| {
                        people[i].github
                            && people[i].rank == Rank::Ic
                            && people[i].status == Status::Active
                            && (today - people[i].start).whole_days() > 90
                    })
                    .expect("some engineer joined over 90 days ago");
                people[i].status = Status::Terminated;
                people[i].end = Some(ctx.days_ago(rng.gen_range(14..45)));
                i
            }
        };
        // The end date is clearly in the past, the planted leaver a full-time employee.
        if let Some(end) = people[planted_leaver].end
            && (today - end).whole_days() < 7
        {
            people[planted_leaver].end = Some(ctx.days_ago(9));
        }
        people[planted_leaver].employment_type = "full_time";
        people[planted_leaver].aws = false;

        // GitHub admins: the heads and managers of engineering, a few of them.
        let gh_members: Vec<usize> = (0..n)
            .filter(|&i| people[i].github && !people[i].is_leaver())
            .collect();
        let mut admins: Vec<usize> = gh_members
            .iter()
            .copied()
            .filter(|&i| {
                matches!(people[i].rank, Rank::Head | Rank::Manager)
                    && priority(people[i].dept) == 0
            })
            .collect();
        if admins.is_empty() {
            admins.push(gh_members[0]);
        }
        admins.truncate((gh_members.len() / 150).clamp(2, 20));
        for &a in &admins {
            people[a].github_admin = true;
        }
        let planted_admin = *admins.last().expect("an admin");
        people[planted_admin].github_2fa = false;
        for &i in &gh_members {
            if !people[i].github_admin && rng.gen_bool(0.015) {
                people[i].github_2fa = false;
            }
        }

        // The planted console user without MFA: an active AWS console user.
        let planted_console = match order_aws.iter().copied().find(|&i| {
            people[i].aws && people[i].aws_console && !people[i].aws_mfa && !people[i].is_leaver()
        }) {
            Some(i) => i,
            None => {
                let i = order_aws
                    .iter()
                    .copied()
                    .find(|&i| people[i].aws && !people[i].is_leaver() && i != 0)
                    .expect("an AWS user");
                people[i].aws_console = true;
                people[i].aws_mfa = false;
                i
            }
        };
        World {
            people,
            planted_leaver,
            planted_admin,
            planted_console,
        }
    }

    /// Whether a person is a member of the GitHub org today: has an account and has not left
    /// (or is the leaver nobody removed).
    pub fn github_member(&self, i: usize) -> bool {
        let p = &self.people[i];
        p.github && (!p.is_leaver() || i == self.planted_leaver)
    }

    /// Whether a person is an IAM user today (leavers' users were deleted).
    pub fn aws_user(&self, i: usize) -> bool {
        let p = &self.people[i];
        p.aws && !p.is_leaver()
    }

    pub fn count(&self, today: Date, counts: &mut BTreeMap<String, u64>) {
        let c = |f: &dyn Fn(&Person) -> bool| self.people.iter().filter(|p| f(p)).count() as u64;
        counts.insert("people".into(), self.people.len() as u64);
        counts.insert("leavers".into(), c(&|p| p.is_leaver()));
        counts.insert("on_leave".into(), c(&|p| p.status == Status::OnLeave));
        counts.insert(
            "contractors".into(),
            c(&|p| p.employment_type == "contractor"),
        );
        let year_ago = today - time::Duration::days(365);
        counts.insert("hired_past_year".into(), c(&|p| p.start > year_ago));
    }
}

pub fn write_roster(_ctx: &Ctx, world: &World, out: &mut Out) -> io::Result<()> {
    let mut w = csv::Writer::from_writer(&mut *out);
    w.write_record([
        "email",
        "name",
        "employee_id",
        "department",
        "manager_email",
        "title",
        "start_date",
        "end_date",
        "status",
        "employment_type",
        "github_username",
    ])?;
    for p in &world.people {
        let manager = p.manager.map(|m| world.people[m].email.as_str());
        w.write_record([
            p.email.as_str(),
            &format!("{} {}", p.first, p.last),
            &p.employee_id,
            p.dept,
            manager.unwrap_or(""),
            &p.title,
            &fmt_date(p.start),
            &p.end.map(fmt_date).unwrap_or_default(),
            p.status.as_str(),
            p.employment_type,
            if p.github { p.login.as_str() } else { "" },
        ])?;
    }
    w.flush()?;
    drop(w);
    io::Write::flush(out)
}
