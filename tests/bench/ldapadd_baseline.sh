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

givens=(Anna Ben Chloé David Eva Fatima Георгий Hiro Ines 王)
surnames=(Smith Müller O\'Brien García Иванова Tanaka Rossi Nowak Kim 李)
departments=(Engineering Finance Sales Support People)
titles=("Engineer" "Analyst" "Account Executive" "Support Specialist" "Partner")

{
  printf 'dn: %s\nobjectClass: organizationalUnit\nou: ldapadd-%s\n\n' "${ou}" "${tag}"
  for ((i = 0; i < n; i++)); do
    given=${givens[i % ${#givens[@]}]}
    sn=${surnames[(i / ${#givens[@]}) % ${#surnames[@]}]}
    sam="b${tag}${i}"
    emp="E${tag}-${i}"
    # Non-ASCII values must be base64 in LDIF; encode every name the same way.
    cn_b64=$(printf '%s' "CN=${given} ${sn} ${i},${ou}" | base64 -w0)
    printf 'dn:: %s\n' "${cn_b64}"
    printf 'objectClass: top\nobjectClass: person\nobjectClass: organizationalPerson\nobjectClass: user\n'
    printf 'sAMAccountName: %s\nuserPrincipalName: %s@%s\n' "${sam}" "${sam}" "${domain}"
    printf 'givenName:: %s\n' "$(printf '%s' "${given}" | base64 -w0)"
    printf 'sn:: %s\n' "$(printf '%s' "${sn}" | base64 -w0)"
    printf 'displayName:: %s\n' "$(printf '%s' "${given} ${sn}" | base64 -w0)"
    printf 'employeeID: %s\ndepartment: %s\ntitle: %s\n' "${emp}" \
        "${departments[i % ${#departments[@]}]}" "${titles[i % ${#titles[@]}]}"
    printf 'unicodePwd:: %s\nuserAccountControl: 512\npwdLastSet: 0\n\n' "${pwd_b64}"
  done
} >"${ldif}"

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
