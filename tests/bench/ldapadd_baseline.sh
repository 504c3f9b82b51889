#!/usr/bin/env bash
# Baseline for the agent's apply rate: how fast one sequential `ldapadd` over LDAPS creates N user
# entries equivalent to what the agent creates (same attributes, password set in the same add).
#
#   ldapadd_baseline.sh N SAMBA_ENV OUT_DIR [PARENT_OU]
#
# SAMBA_ENV is the env file written by tests/fixtures/samba-ad.sh (or the directory holding it).
# The users go into a new OU (OU=ldapadd-<tag>,PARENT_OU; PARENT_OU defaults to OU=Tenure,<base>),
# which is left in place. Prints ldapadd_seconds=X and ldapadd_rate=Y (adds per second) and writes
# the same lines plus the LDIF to OUT_DIR.
set -euo pipefail

usage() { echo "usage: $0 N SAMBA_ENV OUT_DIR [PARENT_OU]" >&2; exit 2; }
[[ $# -ge 3 && $# -le 4 ]] || usage
n=$1 env_file=$2 out_dir=$3
[[ ${n} =~ ^[1-9][0-9]*$ ]] || usage
[[ -d ${env_file} ]] && env_file=${env_file}/env
[[ -r ${env_file} ]] || { echo "cannot read ${env_file}" >&2; exit 1; }
# shellcheck disable=SC1090
source "${env_file}"
parent=${4:-OU=Tenure,${TENURE_LDAP_BASE_DN}}
mkdir -p "${out_dir}"

tag=$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
ou="OU=ldapadd-${tag},${parent}"
ldif="${out_dir}/ldapadd_baseline_${tag}.ldif"
password='Init!Passw0rd'
# unicodePwd: the password in double quotes, UTF-16LE (base64 in LDIF).
pwd_b64=$(printf '"%s"' "${password}" | iconv -f UTF-8 -t UTF-16LE | base64 -w0)
domain=$(sed -e 's/^DC=//I' -e 's/,DC=/./Ig' <<<"${TENURE_LDAP_BASE_DN}")

# One Python process writes the LDIF (a bash loop forking base64 five times per entry took nine
# minutes for 10,000). Names are varied and partly non-Latin, so values go base64-encoded.
python3 - "${n}" "${tag}" "${ou}" "${domain}" "${pwd_b64}" >"${ldif}" <<'PY'
import base64, sys
n, tag, ou, domain, pwd_b64 = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
givens = ["Anna", "Ben", "Chloé", "David", "Eva", "Fatima", "Георгий", "Hiro", "Ines", "王"]
surnames = ["Smith", "Müller", "O'Brien", "García", "Иванова", "Tanaka", "Rossi", "Nowak", "Kim", "李"]
departments = ["Engineering", "Finance", "Sales", "Support", "People"]
titles = ["Engineer", "Analyst", "Account Executive", "Support Specialist", "Partner"]
b64 = lambda v: base64.b64encode(v.encode()).decode()
out = [f"dn: {ou}\nobjectClass: organizationalUnit\nou: ldapadd-{tag}\n\n"]
for i in range(n):
    given, sn = givens[i % len(givens)], surnames[(i // len(givens)) % len(surnames)]
    sam = f"b{tag}{i}"
    out.append(
        f"dn:: {b64(f'CN={given} {sn} {i},{ou}')}\n"
        "objectClass: top\nobjectClass: person\nobjectClass: organizationalPerson\nobjectClass: user\n"
        f"sAMAccountName: {sam}\nuserPrincipalName: {sam}@{domain}\n"
        f"givenName:: {b64(given)}\nsn:: {b64(sn)}\ndisplayName:: {b64(f'{given} {sn}')}\n"
        f"employeeID: E{tag}-{i}\ndepartment: {departments[i % len(departments)]}\n"
        f"title: {titles[i % len(titles)]}\n"
        f"unicodePwd:: {pwd_b64}\nuserAccountControl: 512\npwdLastSet: 0\n\n")
sys.stdout.write("".join(out))
PY

export LDAPTLS_CACERT="${TENURE_LDAP_CA_FILE}" LDAPTLS_REQCERT=demand
start=$(date +%s.%N)
ldapadd -x -H "${TENURE_LDAP_URL}" -D "${TENURE_LDAP_BIND_DN}" -w "${TENURE_LDAP_PASSWORD}" \
    -f "${ldif}" >"${out_dir}/ldapadd_baseline_${tag}.log"
end=$(date +%s.%N)

# The OU add is one of the N+1 operations; it is negligible and left in for simplicity.
seconds=$(awk -v s="${start}" -v e="${end}" 'BEGIN { printf "%.3f", e - s }')
rate=$(awk -v n="${n}" -v t="${seconds}" 'BEGIN { printf "%.1f", (t > 0 ? n / t : 0) }')
{
  echo "ldapadd_entries=${n}"
  echo "ldapadd_ou=${ou}"
  echo "ldapadd_seconds=${seconds}"
  echo "ldapadd_rate=${rate}"
} | tee "${out_dir}/ldapadd_baseline.txt"
