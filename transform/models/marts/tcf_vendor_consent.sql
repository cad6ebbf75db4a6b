-- TCF vendor consent per domain (Gravito's decoded TC strings).
{{ tcf_consent('vendors_consented', 'vendors_legitimate_interest', 'vendor_id') }}
